package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// deadOracle returns, for the rows of vectors of width features given in
// order, the features with more than n vectors after the last one they
// fired in (x != 0), counted one vector at a time.
func deadOracle(rows [][]float32, features int, n int64) int {
	since := make([]int64, features)
	for _, x := range rows {
		for f := range features {
			since[f]++
			if x[f] != 0 {
				since[f] = 0
			}
		}
	}
	dead := 0
	for _, s := range since {
		if s > n {
			dead++
		}
	}
	return dead
}

// deadFile returns a float32 .npy of batch vectors of features in which
// feature f fires with a probability of its own, and its rows.
func deadFile(rng *rand.Rand, batch, features int) ([]byte, [][]float32) {
	data := npyHeader("<f4", int64(batch), int64(features))
	rows := make([][]float32, batch)
	odds := make([]float64, features)
	for f := range odds {
		odds[f] = []float64{0, 0.001, 0.01, 0.1, 0.5}[rng.IntN(5)]
	}
	for r := range rows {
		rows[r] = make([]float32, features)
		for f := range features {
			if rng.Float64() < odds[f] {
				rows[r][f] = 1
			}
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(rows[r][f]))
		}
	}
	return data, rows
}

// TestDeadAfter checks -dead-after against the vector-by-vector oracle:
// for one file, for a total of files in the order given (another order,
// another answer), and with any -j and ranges of rows (the ranges are
// merged in order), both in the report and in the -save state.
func TestDeadAfter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(19, 1))
	const features = 64
	a, rowsA := deadFile(rng, 3000, features)
	b, rowsB := deadFile(rng, 500, features)
	fa, fb := writeFile(t, dir, "a.npy", a), writeFile(t, dir, "b.npy", b)
	for _, n := range []int64{0, 1, 10, 100, 2999, 3499, 1 << 40} {
		for _, c := range []struct {
			files []string
			rows  [][]float32
		}{
			{[]string{fa}, rowsA},
			{[]string{fa, fb}, append(append([][]float32{}, rowsA...), rowsB...)},
			{[]string{fb, fa}, append(append([][]float32{}, rowsB...), rowsA...)},
		} {
			want := deadOracle(c.rows, features, n)
			var states [][]byte
			for _, j := range []string{"1", "3"} {
				state := filepath.Join(dir, "s.l0")
				args := append([]string{"-json", "-total", "-j", j, "-save", state, "-dead-after", itoa(n)}, c.files...)
				// Ranges of 4 KiB: 16 rows each, counted by 1 or 3 workers.
				out, errs, status := runL0With(tiny(1<<12, 1<<12, 1<<12), args...)
				if status != 0 || errs != "" {
					t.Fatalf("%v: status %d, stderr %q", args, status, errs)
				}
				r := decodeLines(t, out)[0]
				if fmt.Sprint(r.Dead) != itoa(int64(want)) || r.DeadAfter == nil || *r.DeadAfter != n {
					t.Errorf("%v: dead %v (after %v), want %d", args, r.Dead, r.DeadAfter, want)
				}
				s, err := os.ReadFile(state)
				if err != nil {
					t.Fatal(err)
				}
				states = append(states, s)
				// The saved state, read back, says the same.
				out, errs, status = runL0("-json", "-dead-after", itoa(n), state)
				if r := decodeLines(t, out)[0]; status != 0 || fmt.Sprint(r.Dead) != itoa(int64(want)) {
					t.Errorf("%v, its state: status %d %q, dead %v, want %d", args, status, errs, r.Dead, want)
				}
			}
			if !bytes.Equal(states[0], states[1]) {
				t.Errorf("%v, -dead-after %d: the state depends on -j", c.files, n)
			}
		}
	}
	// Without -dead-after, dead is never fired, and the JSON says no rule.
	out, _, _ := runL0("-json", fa)
	r := decodeLines(t, out)[0]
	if r.DeadAfter != nil || fmt.Sprint(r.Dead) != itoa(int64(deadOracle(rowsA, features, int64(len(rowsA))-1))) {
		t.Errorf("no -dead-after: dead %v, after %v", r.Dead, r.DeadAfter)
	}
	out, _, _ = runL0("-dead-after", "5", fa)
	if !strings.Contains(out, "not fired in the last 5 vectors") {
		t.Errorf("the text report does not say the rule:\n%s", out)
	}
}

// TestDeadAfterFlag: -dead-after takes a whole number of vectors, 0 to
// 2^63 − 1, and says what is wrong with anything else.
func TestDeadAfterFlag(t *testing.T) {
	t.Parallel()
	for arg, want := range map[string]string{
		"-1":                   "want a number of vectors, 0 or more",
		"9223372036854775808":  "more vectors than any input holds",
		"-9223372036854775809": "more vectors than any input holds",
		"1e3":                  "want a whole number of vectors",
		"abc":                  "want a whole number of vectors",
		"":                     "want a whole number of vectors",
		"NaN":                  "want a whole number of vectors",
		"+Inf":                 "want a whole number of vectors",
		"1.5":                  "want a whole number of vectors",
	} {
		_, errs, status := runL0("-dead-after", arg, "x.npy")
		if status != 2 || !strings.Contains(errs, "-dead-after") || !strings.Contains(errs, want) {
			t.Errorf("-dead-after %q: status %d, stderr %q, want %q", arg, status, errs, want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
