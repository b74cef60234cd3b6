package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// A benchRun is what a `go test -bench` output says: its configuration lines
// (cpu, goos, the cache sizes recorded with -caches, ...) and the MB/s of
// every run of every benchmark.
type benchRun struct {
	// config holds the first value of each configuration key.
	config map[string]string
	// speeds holds, per benchmark name without its -GOMAXPROCS suffix,
	// the MB/s of each run in input order.
	speeds map[string][]float64
	// names are the benchmark names in the order they first appear.
	names []string
}

func newBenchRun() *benchRun {
	return &benchRun{config: map[string]string{}, speeds: map[string][]float64{}}
}

// read adds the lines of r. Lines that are neither configuration nor
// benchmark results with a MB/s column (test logs, PASS, ok, a result
// without SetBytes) are skipped.
func (run *benchRun) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if key, value, ok := parseConfig(line); ok {
			if _, seen := run.config[key]; !seen {
				run.config[key] = value
			}
			continue
		}
		name, mbps, ok := parseResult(line)
		if !ok {
			continue
		}
		if _, seen := run.speeds[name]; !seen {
			run.names = append(run.names, name)
		}
		run.speeds[name] = append(run.speeds[name], mbps)
	}
	return sc.Err()
}

// parseConfig reads a configuration line of the Go benchmark data format,
// "key: value", the key lower case without spaces ("cpu: AMD EPYC").
func parseConfig(line string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(line, ":")
	if !ok || key == "" || !unicode.IsLower(rune(key[0])) {
		return "", "", false
	}
	for _, r := range key {
		if unicode.IsSpace(r) || unicode.IsUpper(r) {
			return "", "", false
		}
	}
	if value != "" && value[0] != ' ' && value[0] != '\t' {
		return "", "", false
	}
	return key, strings.TrimSpace(value), true
}

// parseResult reads a benchmark result line,
//
//	BenchmarkName/sub=x-8   1000   1234 ns/op   5678.9 MB/s   0 B/op ...
//
// and returns its name without the -GOMAXPROCS suffix and its speed in MB/s
// (10^6 bytes per second). Units of B/s (benchfmt's normalised form) are
// converted; a line without a speed is not a result here.
func parseResult(line string) (name string, mbps float64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", 0, false
	}
	if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
		return "", 0, false
	}
	for i := 2; i+1 < len(f); i += 2 {
		scale, known := speedUnits[f[i+1]]
		if !known {
			continue
		}
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", 0, false
		}
		return trimProcs(f[0]), v * scale, true
	}
	return "", 0, false
}

// speedUnits are the speed units understood, as factors to MB/s.
var speedUnits = map[string]float64{"MB/s": 1, "B/s": 1e-6, "GB/s": 1e3}

// trimProcs removes the -N that go test appends when GOMAXPROCS is not 1.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return name
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return name
		}
	}
	return name[:i]
}

// splitName splits "BenchmarkRoofline/kind=count/n=4K" into its base name
// ("Roofline") and its key=value elements; elements without "=" are kept
// under their own text as key with an empty value.
func splitName(name string) (base string, keys map[string]string) {
	parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
	keys = map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		keys[k] = v
	}
	return parts[0], keys
}

// parseSize reads a size as sizeName writes it: 4096, 4K, 64M, 1G (K, M, G
// are powers of 1024).
func parseSize(s string) (int64, error) {
	scale := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		scale = 1 << 10
	case strings.HasSuffix(s, "M"):
		scale = 1 << 20
	case strings.HasSuffix(s, "G"):
		scale = 1 << 30
	}
	digits := s
	if scale != 1 {
		digits = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, optionally with K, M or G", s)
	}
	return n * scale, nil
}

// formatSize writes n bytes as parseSize reads it, in the largest unit that
// divides it.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}

// median returns the median of v (the mean of the middle two for an even
// count); v is not modified.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
