package scan

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/metric"
)

// array returns a uint8 .npy file of rows rows of features, element i
// non-zero when i%every == 0.
func array(rows, features, every int) []byte {
	data := npy.AppendHeader(nil, "|u1", int64(rows), int64(features))
	for i := range rows * features {
		data = append(data, byte(min(1, i%every)^1))
	}
	return data
}

// source returns a source of the bytes, counted as a file of known size.
func source(name string, data []byte) Source {
	return Source{Name: name, Open: func() (*input.Input, error) {
		return input.OpenReader(name, bytes.NewReader(data), int64(len(data)), input.Options{})
	}}
}

func broken(name string) Source {
	return Source{Name: name, Open: func() (*input.Input, error) { return nil, errors.New("broken") }}
}

// l0 returns the L0 of a tally.
func l0(t *testing.T, tl tally.Tally) []float64 {
	t.Helper()
	s, err := tl.Summarize(0.1)
	if err != nil {
		t.Fatal(err)
	}
	return s.L0
}

// TestOrder: however many workers and ranges, the inputs come out in
// order, each with the counts one worker gives it.
func TestOrder(t *testing.T) {
	t.Parallel()
	var sources []Source
	var want [][]float64
	for i := range 12 {
		data := array(50+i, 7, 2+i%5)
		sources = append(sources, source(fmt.Sprint(i), data))
		one := Start([]Source{source("one", data)}, Config{Workers: 1, PerInput: true})
		for in := range one.Inputs() {
			want = append(want, l0(t, in.Tally))
		}
		one.Finish()
	}
	for _, workers := range []int{1, 3, 8} {
		s := Start(sources, Config{Workers: workers, PerInput: true, MinRangeBytes: 8, MaxRangeBytes: 8})
		i := 0
		for in := range s.Inputs() {
			if in.Err != nil || in.Name != fmt.Sprint(i) || !slices.Equal(l0(t, in.Tally), want[i]) {
				t.Errorf("%d workers: input %d is %q: %v, %v", workers, i, in.Name, in.Err, in.Tally)
			}
			i++
		}
		if total, err := s.Finish(); total != nil || err != nil || i != len(sources) {
			t.Errorf("%d workers: %d inputs; a total %v, %v", workers, i, total, err)
		}
	}
}

// TestTotalOnly: counted into the total alone, the workers' tallies merge
// into the counts of all the rows.
func TestTotalOnly(t *testing.T) {
	t.Parallel()
	a, b := array(40, 5, 3), array(70, 5, 2)
	both := Start([]Source{source("a", a), source("b", b)}, Config{Workers: 3, Total: true, MinRangeBytes: 16, MaxRangeBytes: 16})
	for in := range both.Inputs() {
		if in.Err != nil || in.Tally != nil || in.Skipped {
			t.Errorf("%s: %+v", in.Name, in)
		}
	}
	total, err := both.Finish()
	if err != nil || total == nil {
		t.Fatal(total, err)
	}
	s, _ := total.Summarize(0.1)
	want, _ := tally.New(tally.Config{Elem: tally.Uint8, Features: 5}, metric.NonZero(), true)
	want.Add(a[len(a)-200:], 40)
	want.Add(b[len(b)-350:], 70)
	ws, _ := want.Summarize(0.1)
	if s.Vectors != 110 || !slices.Equal(s.L0, ws.L0) {
		t.Errorf("%+v, want %+v", s, ws)
	}
}

// TestTotalFails: an input of another config does not join the total; a
// bad input fails it, and the inputs after it are opened, not counted.
func TestTotalFails(t *testing.T) {
	t.Parallel()
	a, other := array(10, 5, 2), array(10, 6, 2)
	s := Start([]Source{source("a", a), source("other", other)}, Config{Workers: 2, Total: true})
	var errs []error
	for in := range s.Inputs() {
		errs = append(errs, in.Err)
	}
	if total, _ := s.Finish(); errs[0] != nil || errs[1] == nil || !strings.Contains(errs[1].Error(), "does not join the total: uint8, 6 features, where a has uint8, 5 features") || total != nil || !s.TotalFailed() {
		t.Errorf("%v; total %v", errs, total)
	}
	// Counted per input, it is apart.
	s = Start([]Source{source("a", a), source("other", other)}, Config{Workers: 2, Total: true, PerInput: true})
	var apart []error
	for in := range s.Inputs() {
		apart = append(apart, in.Apart)
	}
	s.Finish()
	if apart[0] != nil || apart[1] == nil {
		t.Errorf("%v", apart)
	}
	// After a bad input, the total's inputs are checked, not counted.
	var counted atomic.Int64
	c := Config{Workers: 1, Total: true, Read: input.ReadConfig{BeforeBatch: func(*input.Input) { counted.Add(1) }}}
	s = Start([]Source{broken("bad"), source("a", a), source("b", a)}, c)
	var skipped []bool
	for in := range s.Inputs() {
		skipped = append(skipped, in.Skipped)
	}
	if total, _ := s.Finish(); total != nil || !slices.Equal(skipped, []bool{false, true, true}) || counted.Load() != 0 {
		t.Errorf("skipped %v, %d batches counted, total %v", skipped, counted.Load(), total)
	}
}

// TestStop: once the output fails, nothing more is counted; a reader that
// leaves the loop early stops the scan.
func TestStop(t *testing.T) {
	t.Parallel()
	var sources []Source
	for i := range 20 {
		sources = append(sources, source(fmt.Sprint(i), array(30, 4, 2)))
	}
	s := Start(sources, Config{Workers: 2, PerInput: true})
	n := 0
	for in := range s.Inputs() {
		if n == 1 {
			s.Stop()
		}
		if n > 10 && !in.Skipped && in.Err == nil {
			t.Errorf("input %d counted after Stop", n)
		}
		n++
	}
	s.Finish()
	s = Start(sources, Config{Workers: 2, PerInput: true})
	for range s.Inputs() {
		break
	}
	if total, err := s.Finish(); total != nil || err != nil {
		t.Errorf("%v, %v", total, err)
	}
}

// TestSplit: about one range a worker, within the bounds, and large
// enough that merging its counts is a small part of its work; a stream is
// one range.
func TestSplit(t *testing.T) {
	t.Parallel()
	data := array(1000, 100, 2) // 100 kB
	in, err := input.OpenReader("a", bytes.NewReader(data), int64(len(data)), input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		workers  int
		min, max int64
		ranges   int
	}{
		{1, 1 << 20, 4 << 20, 1}, {4, 1000, 1 << 20, 4}, {4, 1000, 100_000, 4},
		{2, 1, 1, 4}, // a range is at least 256 bytes a counter: 256 rows of 100 features

	} {
		s := &Scan{c: Config{Workers: c.workers, MinRangeBytes: c.min, MaxRangeBytes: c.max}}
		ranges := s.split(in)
		if len(ranges) != c.ranges || ranges[0][0] != 0 || ranges[len(ranges)-1][1] != 1000 {
			t.Errorf("%+v: %d ranges, %v...", c, len(ranges), ranges[0])
		}
		for i := 1; i < len(ranges); i++ {
			if ranges[i][0] != ranges[i-1][1] {
				t.Errorf("%+v: a hole at %d", c, i)
			}
		}
	}
	streamed, err := input.OpenReader("s", struct{ *bytes.Reader }{bytes.NewReader(data)}, -1, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := (&Scan{c: Config{Workers: 4, MinRangeBytes: 1, MaxRangeBytes: 1}}).split(streamed); len(r) != 1 {
		t.Errorf("a stream split in %d", len(r))
	}
}

// TestProgress: the bytes counted and the inputs done are told.
func TestProgress(t *testing.T) {
	t.Parallel()
	p := &counting{}
	s := Start([]Source{source("a", array(10, 10, 2)), broken("b")}, Config{Workers: 2, PerInput: true, Progress: p})
	for range s.Inputs() {
	}
	s.Finish()
	if p.bytes.Load() != 100 || p.files.Load() != 2 {
		t.Errorf("%d bytes, %d inputs", p.bytes.Load(), p.files.Load())
	}
}

type counting struct{ bytes, files atomic.Int64 }

func (c *counting) Add(n int64) { c.bytes.Add(n) }
func (c *counting) FileDone()   { c.files.Add(1) }
