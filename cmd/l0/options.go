package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/scan"
	"github.com/sparsekit/l0/metric"
)

const usage = `usage: l0 [flags] [FILE ...]

l0 reports the sparsity of the activations in each NumPy .npy or
safetensors file: the L0 norm (mean number of non-zero features per
vector), dead and dense features, the log10 feature density histogram,
the kernel used and the throughput; or one total over many files.

Inputs, told apart by their first bytes, not their names:
  .npy         <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1, C order
  safetensors  F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL; the
               tensor -key names, or the one of rank 2 or 3 (else the
               error lists the tensors)
  l0 state     what -save writes ("L0FA"): merged as if counted here
A 2-D array is [batch, feature], a 3-D array [batch, component, feature]
(with -positions, [batch, position, feature]). Without files, l0 reports
on a built-in sample. A pipe (/dev/stdin) is read as a stream.

Top-k files: -sparse INDEX_KEY[,VALUE_KEY] -features D reads each
safetensors input as a top-k pair, indices [batch, (components,) k] of
any integer dtype and values of the same shape and a float dtype, and
reports it as the dense [batch, (components,) D] array, the values counted
by the run's rule. Without VALUE_KEY every entry counts: a uint8 mask,
which takes no -threshold. Regular files only; merges with .npy files and
states of the same element type and features.

Many shards: -total reports all inputs as one; they must agree on element
type, components (or positions) and features. A bad input fails the
total: it is named on stderr, no total, -save or -sparsity file comes of
the run, and the exit status is 1. -save writes the state to merge later
(l0 -total shard-*.l0); -sparsity writes SAELens' sparsity.safetensors.
Both describe all inputs, with or without -total. An output that is an
input, or an existing file of another kind than the output's, is refused
(exit status 2), but for -save over an input state, which accumulates.

Past 16 components the text report gives the range of the per-component
values, past 16 positions the first 8 and the range of the rest; -json
lists each (an infinite threshold is "inf" or "-inf" there).

Regular files are read at offsets by -j workers: files in parallel, a
large file split into ranges of rows (-mmap: counted in memory-mapped
windows of the page cache instead of read(2) into a buffer). The kernel
level is chosen from the CPU at start-up; GODEBUG=cpu.avx512f=off (or
cpu.avx2=off) steers it down.

flags:
`

// options are what a command line asks for: parseOptions makes them, and
// run does what they say.
type options struct {
	json    bool // one JSON object per report per line
	kernels bool // list the kernels, and nothing else
	input   input.Options
	dense   float64 // a feature is dense above this density
	// deadAfter is -dead-after: a feature is dead with more than this many
	// vectors since it fired; when it is not given (deadAfterSet), when it
	// never fired.
	deadAfter    int64
	deadAfterSet bool
	total        bool   // report the inputs as one total (-total)
	perFile      bool   // with -total, each input's report too
	save         string // -save: the total's state
	// sparsity is -sparsity: the total's sparsity.safetensors.
	sparsity string
	sparse   string // -sparse, as given
	// featureStats is -feature-stats: the total's per-sequence statistics.
	featureStats  string
	excludeTokens string // -exclude-tokens, as given
	workers       int
	mmap          bool
	files         []string

	// How the workers read and split the files: the defaults, not flags
	// (the tests make them small).
	bufferBytes, mapBytes        int
	minRangeBytes, maxRangeBytes int64
	beforeBatch                  func(*input.Input)
}

// wantsTotal reports whether a total over all inputs is made: -total, or
// an output that describes all the inputs.
func (o options) wantsTotal() bool {
	return o.total || o.save != "" || o.sparsity != "" || o.featureStats != ""
}

// perInput reports whether each input is reported: without -total, or
// with -per-file.
func (o options) perInput() bool { return !o.total || o.perFile }

// scanConfig is how the scan counts the inputs.
func (o options) scanConfig() scan.Config {
	c := scan.Config{
		Workers: o.workers, Rule: o.input.Rule, Total: o.wantsTotal(), PerInput: o.perInput(),
		MinRangeBytes: o.minRangeBytes, MaxRangeBytes: o.maxRangeBytes,
		Read: input.ReadConfig{BufferBytes: o.bufferBytes, BeforeBatch: o.beforeBatch},
		// Each feature's vectors since it fired, kept only where an
		// output needs them: they cost an Update a walk of its batch.
		SinceFired: o.deadAfterSet || o.featureStats != "" || o.save != "",
	}
	if o.mmap {
		c.Read.MapBytes = o.mapBytes
	}
	return c
}

// A flagError is an error the flag package found: the usage follows it.
type flagError struct{ error }

// flagSet returns the command's flags, each bound to its field of o.
func flagSet(o *options) *flag.FlagSet {
	flags := flag.NewFlagSet("l0", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.Usage = func() {}
	in := &o.input
	flags.BoolVar(&o.json, "json", false, "write one JSON object per report per line")
	flags.BoolVar(&o.kernels, "kernels", false, "list, per element type, the kernel level chosen and the levels available, and exit")
	flags.Var(thresholdFlag{&in.Rule, metric.Above}, "threshold", "count the elements x > `T` instead of x != 0 (float dtypes only)")
	flags.Var(thresholdFlag{&in.Rule, metric.AbsAbove}, "abs-threshold", "count the elements |x| > `T` instead of x != 0 (float dtypes only; delphi keeps |x| > 1e-5)")
	o.dense = 0.1
	flags.Var((*fractionFlag)(&o.dense), "dense", "a feature is dense when it fires in more than this fraction `D` of vectors")
	flags.Var(deadAfterFlag{&o.deadAfter, &o.deadAfterSet}, "dead-after", "a feature is dead when more than `N` vectors came after the last one it fired in, as sparsify's dead_feature_threshold counts tokens (default: dead when it never fired); with -total the inputs come in the order given")
	flags.StringVar(&in.Key, "key", "", "read the safetensors tensor `NAME` (default: the one tensor of rank 2 or 3)")
	flags.BoolVar(&in.Positions, "positions", false, "read a 3-D array as [batch, position, feature]: vectors are batch × position; report the L0 per position")
	flags.IntVar(&in.Skip, "skip-positions", 0, "leave the first `N` positions of every row out of every statistic (the BOS token); implies -positions")
	flags.BoolVar(&o.total, "total", false, "report all inputs as one dataset (a bad input fails the total)")
	flags.BoolVar(&o.perFile, "per-file", false, "with -total, report each input too, before the total")
	flags.StringVar(&o.save, "save", "", "write the total's state to `FILE` (metric's FeatureActivity format; an input of later runs)")
	flags.StringVar(&o.sparsity, "sparsity", "", "write SAELens' sparsity.safetensors to `FILE`: \"sparsity\", F32, log10(density + 1e-10)")
	flags.IntVar(&o.workers, "j", min(runtime.GOMAXPROCS(0), scan.MaxWorkers), "count with `N` workers at once (1 to 1024): inputs in parallel, large files split into ranges of rows")
	flags.StringVar(&o.sparse, "sparse", "", "read each safetensors input as a top-k pair, the tensors `INDEX_KEY[,VALUE_KEY]`: indices of any integer dtype, [batch, k] or [batch, components, k], and values of a float dtype and the same shape (none: every entry counts); reported as the dense array of -features D")
	flags.IntVar(&in.Features, "features", 0, "with -sparse: the number `D` of features the indices select from, the dense array's last dimension (components × D at most 2^27)")
	flags.StringVar(&o.excludeTokens, "exclude-tokens", "", "leave out of every statistic the vectors whose token id is listed, `ID[,ID...]` (BOS, EOS, padding ids), wherever they stand; the ids are the input's: a safetensors file's tensor -tokens-key, a .npy input's -tokens file")
	flags.StringVar(&in.TokensFile, "tokens", "", "with -exclude-tokens and a .npy input: the token ids of its vectors, a .npy integer array `FILE` of shape [batch, position] (with -positions) or [batch]")
	flags.StringVar(&in.TokensKey, "tokens-key", "", "with -exclude-tokens: the safetensors tensor `NAME` of the token ids, beside the activations (default \"tokens\")")
	flags.StringVar(&o.featureStats, "feature-stats", "", "with -positions (or delphi caches, which have them): write the total's per-sequence statistics to `FILE` (safetensors: firing_counts, sequences_fired, feature_density, consistent_activation_heuristic, vectors_since_fired)")
	flags.BoolVar(&o.mmap, "mmap", false, "count regular files in memory-mapped windows of the page cache where they can be, instead of read(2) into a buffer")
	return flags
}

// writeUsage writes the usage and every flag.
func writeUsage(w io.Writer) {
	flags := flagSet(&options{})
	flags.SetOutput(w)
	fmt.Fprint(w, usage)
	flags.PrintDefaults()
}

// parseOptions parses a command line. It reads no file: what the
// command line alone can get wrong is its error (a flagError when the flag
// package found it, flag.ErrHelp for -h).
func parseOptions(args []string) (options, error) {
	var o options
	flags := flagSet(&o)
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, flagError{err}
	}
	o.files = flags.Args()
	o.bufferBytes, o.mapBytes = input.DefaultBufferBytes, input.DefaultMapBytes
	o.minRangeBytes, o.maxRangeBytes = scan.DefaultMinRangeBytes, scan.DefaultMaxRangeBytes
	if d := o.dense; math.IsNaN(d) || d < 0 || d > 1 {
		return o, fmt.Errorf("-dense %v: want a fraction from 0 to 1", d)
	}
	if o.kernels {
		if len(o.files) > 0 {
			return o, errors.New("-kernels takes no files")
		}
		return o, nil
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	in := &o.input
	in.Keyed = set["key"]
	// -skip-positions N implies -positions for every N given, 0 included.
	in.Positions = in.Positions || set["skip-positions"]
	in.TokensKeyed = set["tokens-key"]
	in.Sequences = set["feature-stats"]
	if err := checkTokens(o, set); err != nil {
		return o, err
	}
	if set["exclude-tokens"] {
		ids, err := parseTokenIDs(o.excludeTokens)
		if err != nil {
			return o, err
		}
		in.Exclude = ids
	}
	if set["sparse"] || set["features"] {
		keys, err := checkSparse(o, set)
		if err != nil {
			return o, err
		}
		in.TopK = keys
	}
	switch {
	case set["threshold"] && set["abs-threshold"]:
		return o, errors.New("-threshold and -abs-threshold: give one rule of counting, not both")
	case in.Skip < 0:
		return o, fmt.Errorf("-skip-positions %d: want 0 or more", in.Skip)
	case o.workers < 1 || o.workers > scan.MaxWorkers:
		return o, fmt.Errorf("-j %d: want 1 to %d workers", o.workers, scan.MaxWorkers)
	case o.perFile && !o.total:
		return o, errors.New("-per-file goes with -total (without it, every input is reported)")
	}
	return o, nil
}

// checkSparse checks -sparse and -features and the flags they do not go
// with (set holds the flags given), and returns the tensors -sparse names.
func checkSparse(o options, set map[string]bool) (input.TopKKeys, error) {
	if !set["sparse"] {
		return input.TopKKeys{}, errors.New("-features goes with -sparse (the dense arrays' features are in their shape)")
	}
	index, values, pair := strings.Cut(o.sparse, ",")
	keys, features := input.TopKKeys{Index: index, Values: values}, o.input.Features
	switch {
	case index == "":
		return keys, fmt.Errorf("-sparse %q: want INDEX_KEY or INDEX_KEY,VALUE_KEY, the names of the tensors", o.sparse)
	case pair && values == "":
		return keys, fmt.Errorf("-sparse %q: an empty VALUE_KEY (for a file without values, give INDEX_KEY alone)", o.sparse)
	case values == index:
		return keys, fmt.Errorf("-sparse %q: the indices and the values are one tensor", o.sparse)
	case !set["features"]:
		return keys, errors.New("-sparse needs -features D, the number of features the indices select from (the dense array's last dimension)")
	case features < 1:
		return keys, fmt.Errorf("-features %d: want 1 or more", features)
	case features > input.MaxTopKCounters:
		return keys, fmt.Errorf("-features %d: more features than l0 counts for a top-k file (%d)", features, input.MaxTopKCounters)
	case set["key"]:
		return keys, errors.New("-sparse and -key: -sparse names the tensors it reads")
	case values == "" && (set["threshold"] || set["abs-threshold"]):
		flag := "-threshold"
		if set["abs-threshold"] {
			flag = "-abs-threshold"
		}
		return keys, fmt.Errorf("%s compares values, and -sparse %s names none: without VALUE_KEY every entry counts", flag, o.sparse)
	case len(o.files) == 0:
		return keys, errors.New("-sparse reads the files named: give one or more")
	}
	return keys, nil
}

// checkTokens checks the flags of token masks and per-sequence
// statistics against each other (set holds the flags given).
func checkTokens(o options, set map[string]bool) error {
	switch {
	case set["tokens"] && !set["exclude-tokens"]:
		return errors.New("-tokens goes with -exclude-tokens (the token ids are read to leave vectors out)")
	case set["tokens-key"] && !set["exclude-tokens"]:
		return errors.New("-tokens-key goes with -exclude-tokens (the token ids are read to leave vectors out)")
	case set["tokens"] && o.input.TokensFile == "":
		return errors.New("-tokens \"\": want the .npy file of the token ids")
	case set["tokens"] && len(o.files) != 1:
		return fmt.Errorf("-tokens FILE gives the token ids of one .npy input; %d inputs given (safetensors inputs hold their own: -tokens-key)", len(o.files))
	case set["exclude-tokens"] && len(o.files) == 0:
		return errors.New("-exclude-tokens reads the token ids of the files named, and the built-in sample has none: give one or more")
	case set["feature-stats"] && o.featureStats == "":
		return errors.New("-feature-stats \"\": want the name of the file to write")
	case set["feature-stats"] && len(o.files) == 0:
		return errors.New("-feature-stats describes the files named: give one or more")
	}
	return nil
}

// maxTokenIDs bounds the ids -exclude-tokens takes: a few special tokens,
// or a vocabulary's worth.
const maxTokenIDs = 1 << 20

// parseTokenIDs parses -exclude-tokens ID[,ID...]: decimal token ids, 0 to
// 2^63 - 1, each once.
func parseTokenIDs(s string) ([]int64, error) {
	if s == "" {
		return nil, errors.New("-exclude-tokens \"\": want one or more token ids, ID[,ID...]")
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxTokenIDs {
		return nil, fmt.Errorf("-exclude-tokens: %d ids; l0 takes at most %d", len(parts), maxTokenIDs)
	}
	ids := make([]int64, 0, len(parts))
	seen := make(map[int64]bool, len(parts))
	for i, p := range parts {
		id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		switch {
		case strings.TrimSpace(p) == "":
			return nil, fmt.Errorf("-exclude-tokens %q: id %d is empty; want ID[,ID...]", s, i+1)
		case errors.Is(err, strconv.ErrRange) && strings.HasPrefix(strings.TrimSpace(p), "-"):
			return nil, fmt.Errorf("-exclude-tokens: %s is negative; a token id is 0 or more", quoteShort(p))
		case errors.Is(err, strconv.ErrRange):
			return nil, fmt.Errorf("-exclude-tokens: %s is past the largest token id, 2^63 - 1", quoteShort(p))
		case err != nil:
			return nil, fmt.Errorf("-exclude-tokens: %s is not a token id (a decimal integer)", quoteShort(p))
		case id < 0:
			return nil, fmt.Errorf("-exclude-tokens: %d is negative; a token id is 0 or more", id)
		case seen[id]:
			return nil, fmt.Errorf("-exclude-tokens: %d is given twice", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids, nil
}

// quoteShort quotes a piece of a flag for an error, at most 40 bytes of
// it.
func quoteShort(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "..."
	}
	return strconv.Quote(s)
}

// thresholdFlag sets the rule of counting to x > T (or |x| > T): a
// threshold of 0 (x > 0) is not the default (x != 0).
type thresholdFlag struct {
	rule *metric.Rule
	make func(float64) metric.Rule
}

func (t thresholdFlag) String() string {
	if t.rule == nil {
		return ""
	}
	if v, ok := t.rule.Threshold(); ok {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return ""
}

func (t thresholdFlag) Set(s string) error {
	v, err := parseNumber(s)
	if err != nil || math.IsNaN(v) {
		return errors.New("want a number")
	}
	*t.rule = t.make(v + 0) // -0 is +0
	return nil
}

// parseNumber parses a float64 flag as Python's float() reads it: a number
// beyond the float64 range is the infinity it rounds to, so 1e400 is the
// same threshold as inf (x > +Inf: nothing counts) and -1e400 as -inf
// (everything but NaN counts), as 1e-400 is 0 (strconv.ParseFloat's
// ErrRange is for overflow only).
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) {
		return v, nil // ±Inf
	}
	return v, err
}

// fractionFlag is a float flag read as parseNumber reads numbers;
// parseOptions checks its range.
// deadAfterFlag is -dead-after N: a whole number of vectors, 0 to 2^63 − 1.
type deadAfterFlag struct {
	n   *int64
	set *bool
}

func (f deadAfterFlag) String() string {
	if f.set == nil || !*f.set {
		return ""
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f deadAfterFlag) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return fmt.Errorf("%q: more vectors than any input holds (at most %d)", s, int64(math.MaxInt64))
	case err != nil:
		return fmt.Errorf("%q: want a whole number of vectors, 0 or more", s)
	case v < 0:
		return fmt.Errorf("%d: want a number of vectors, 0 or more", v)
	}
	*f.n, *f.set = v, true
	return nil
}

type fractionFlag float64

func (f *fractionFlag) String() string {
	if f == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*f), 'g', -1, 64)
}

func (f *fractionFlag) Set(s string) error {
	v, err := parseNumber(s)
	if err != nil {
		return errors.New("want a number")
	}
	*f = fractionFlag(v + 0) // -0 is +0
	return nil
}
