// Command benchratio reads `go test -bench` output and prints, for every
// benchmark that reports MB/s, the median over its runs and the ratio to the
// read-limit reference of the same input size measured in the same run
// (BenchmarkReadLimit/impl=*/n=SIZE):
//
//	go test -run '^$' -bench 'CountNonZero|ReadLimit' -count 5 . | go run ./internal/benchratio
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	line    = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) MB/s`)
	sizeKey = regexp.MustCompile(`/n=([^/]+)$`)
)

func main() {
	speeds := map[string][]float64{}
	var order []string
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		m := line.FindStringSubmatch(scanner.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		if _, seen := speeds[m[1]]; !seen {
			order = append(order, m[1])
		}
		speeds[m[1]] = append(speeds[m[1]], v)
	}
	limit := map[string]float64{}
	for _, name := range order {
		if strings.HasPrefix(name, "BenchmarkReadLimit/") {
			if s := sizeKey.FindStringSubmatch(name); s != nil {
				limit[s[1]] = median(speeds[name])
			}
		}
	}
	fmt.Printf("%-60s %12s %6s %s\n", "benchmark", "GB/s", "runs", "x read limit")
	for _, name := range order {
		med := median(speeds[name])
		ratio := ""
		if s := sizeKey.FindStringSubmatch(name); s != nil && limit[s[1]] > 0 {
			ratio = fmt.Sprintf("%.2f", med/limit[s[1]])
		}
		fmt.Printf("%-60s %12.1f %6d %s\n", name, med/1000, len(speeds[name]), ratio)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
