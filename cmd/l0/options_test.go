package main

import (
	"errors"
	"flag"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/scan"
	"github.com/sparsekit/l0/metric"
)

// TestParseOptions: what each command line asks for, read without a
// file or the flag package's output.
func TestParseOptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args  []string
		check func(options) bool
	}{
		{nil, func(o options) bool {
			return o.dense == 0.1 && o.workers == min(runtime.GOMAXPROCS(0), scan.MaxWorkers) && o.input.Rule == metric.NonZero() &&
				!o.wantsTotal() && o.perInput() && o.bufferBytes == input.DefaultBufferBytes && len(o.files) == 0
		}},
		{[]string{"-json", "a.npy", "b.npy"}, func(o options) bool { return o.json && slices.Equal(o.files, []string{"a.npy", "b.npy"}) }},
		{[]string{"-threshold", "0.5", "x"}, func(o options) bool { return o.input.Rule == metric.Above(0.5) }},
		{[]string{"-abs-threshold", "1e-5", "x"}, func(o options) bool { return o.input.Rule == metric.AbsAbove(1e-5) }},
		{[]string{"-threshold", "-0", "x"}, func(o options) bool {
			v, ok := o.input.Rule.Threshold()
			return ok && v == 0 && !math.Signbit(v)
		}},
		{[]string{"-threshold", "1e400"}, func(o options) bool { v, _ := o.input.Rule.Threshold(); return math.IsInf(v, 1) }},
		{[]string{"-dense", "-0"}, func(o options) bool { return o.dense == 0 && !math.Signbit(o.dense) }},
		{[]string{"-skip-positions", "0", "x"}, func(o options) bool { return o.input.Positions && o.input.Skip == 0 }},
		{[]string{"-skip-positions", "2", "x"}, func(o options) bool { return o.input.Positions && o.input.Skip == 2 }},
		{[]string{"-key", "", "x"}, func(o options) bool { return o.input.Keyed && o.input.Key == "" }},
		{[]string{"x"}, func(o options) bool { return !o.input.Keyed }},
		{[]string{"-sparse", "i,v", "-features", "64", "x"}, func(o options) bool {
			return o.input.TopK == input.TopKKeys{Index: "i", Values: "v"} && o.input.Features == 64
		}},
		{[]string{"-sparse", "i", "-features", "64", "x"}, func(o options) bool { return o.input.TopK == input.TopKKeys{Index: "i"} }},
		{[]string{"-total", "x"}, func(o options) bool { return o.wantsTotal() && !o.perInput() }},
		{[]string{"-total", "-per-file", "x"}, func(o options) bool { return o.wantsTotal() && o.perInput() }},
		{[]string{"-save", "s.l0", "x"}, func(o options) bool { return o.wantsTotal() && o.perInput() && !o.total }},
		{[]string{"-mmap", "-j", "3", "x"}, func(o options) bool {
			c := o.scanConfig()
			return c.Workers == 3 && c.Read.MapBytes == input.DefaultMapBytes
		}},
		{[]string{"x"}, func(o options) bool { return o.scanConfig().Read.MapBytes == 0 }},
		{[]string{"-kernels"}, func(o options) bool { return o.kernels }},
		{[]string{"-kernels", "-sparse", "i"}, func(o options) bool { return o.kernels }}, // -kernels first, as ever
	} {
		o, err := parseOptions(c.args)
		if err != nil || !c.check(o) {
			t.Errorf("%q: %+v, %v", c.args, o, err)
		}
	}
}

// TestParseErrors: each mistake of a command line alone, and whose words
// say it (the flag package's come with the usage).
func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args      []string
		flagError bool
		want      string
	}{
		{[]string{"-nope"}, true, "flag provided but not defined: -nope"},
		{[]string{"-threshold", "NaN"}, true, `invalid value "NaN" for flag -threshold: want a number`},
		{[]string{"-dense", "x"}, true, "want a number"},
		{[]string{"-dense", "1.5"}, false, "-dense 1.5: want a fraction from 0 to 1"},
		{[]string{"-dense", "inf"}, false, "-dense +Inf: want a fraction"},
		{[]string{"-kernels", "x"}, false, "-kernels takes no files"},
		{[]string{"-threshold", "1", "-abs-threshold", "1"}, false, "give one rule of counting, not both"},
		{[]string{"-skip-positions", "-1"}, false, "-skip-positions -1: want 0 or more"},
		{[]string{"-j", "0"}, false, "-j 0: want 1 to 1024 workers"},
		{[]string{"-j", "1025"}, false, "-j 1025: want 1 to 1024 workers"},
		{[]string{"-per-file"}, false, "-per-file goes with -total"},
		{[]string{"-features", "3", "x"}, false, "-features goes with -sparse"},
		{[]string{"-sparse", ",v", "-features", "3", "x"}, false, `-sparse ",v": want INDEX_KEY`},
		{[]string{"-sparse", "i,", "-features", "3", "x"}, false, "an empty VALUE_KEY"},
		{[]string{"-sparse", "i,i", "-features", "3", "x"}, false, "one tensor"},
		{[]string{"-sparse", "i", "x"}, false, "-sparse needs -features D"},
		{[]string{"-sparse", "i", "-features", "0", "x"}, false, "-features 0: want 1 or more"},
		{[]string{"-sparse", "i", "-features", "134217729", "x"}, false, "more features than l0 counts for a top-k file"},
		{[]string{"-sparse", "i", "-features", "3", "-key", "k", "x"}, false, "-sparse and -key"},
		{[]string{"-sparse", "i", "-features", "3", "-abs-threshold", "0", "x"}, false, "-abs-threshold compares values, and -sparse i names none"},
		{[]string{"-sparse", "i", "-features", "3"}, false, "-sparse reads the files named"},
	} {
		_, err := parseOptions(c.args)
		var fe flagError
		if err == nil || errors.As(err, &fe) != c.flagError || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v (a flag error: %v), want %q", c.args, err, errors.As(err, &fe), c.want)
		}
	}
	if _, err := parseOptions([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
