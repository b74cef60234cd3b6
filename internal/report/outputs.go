package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/safetensors"
)

// An Output is a file a run writes: -save's state, -sparsity's file or
// -feature-stats' file.
type Output struct {
	Flag string // "-save", "-sparsity" or "-feature-stats"
	Path string
}

// kind names what the output holds, as a file l0 may write over.
func (o Output) kind() string {
	switch o.Flag {
	case "-save":
		return "an l0 state"
	case "-feature-stats":
		return "a feature stats file"
	}
	return "a sparsity file"
}

// CheckOutputs refuses, before anything is read or written, the outputs
// that would destroy an input or a file l0 did not write (a command-line
// error, exit status 2):
//
//   - an output that is one of the inputs (os.SameFile, so through
//     symbolic and hard links), except -save over an input that is a
//     state: the accumulation l0 -total -save acc.l0 acc.l0 new.npy, whose
//     state is written after every input is read;
//   - -save and -sparsity that name one file;
//   - an output that exists, is a regular file that is not empty, and is
//     not of the kind l0 writes there (an l0 state for -save, a sparsity
//     file for -sparsity): the mistake of a shell pattern, l0 -total
//     -sparsity shard-*.npy, which puts shard-0.npy after -sparsity.
//
// Devices and named pipes (-save /dev/stdout) are written in place, and
// checked only against the inputs.
func CheckOutputs(outputs []Output, inputs []string) error {
	var set []Output
	for _, o := range outputs {
		if o.Path != "" {
			set = append(set, o)
		}
	}
	for i := range set {
		for _, other := range set[i+1:] {
			if !sameOutput(set[i].Path, other.Path) {
				continue
			}
			if set[i].Path == other.Path {
				return fmt.Errorf("%s and %s name the same file", set[i].Flag, other.Flag)
			}
			return fmt.Errorf("%s %s and %s %s are the same file", set[i].Flag, input.DisplayName(set[i].Path), other.Flag, input.DisplayName(other.Path))
		}
	}
	for _, o := range set {
		info, err := os.Stat(o.Path)
		if err != nil {
			continue // nothing there yet (or nothing l0 can write: said later)
		}
		for _, in := range inputs {
			inInfo, err := os.Stat(in)
			if err != nil || !os.SameFile(info, inInfo) {
				continue
			}
			if o.Flag == "-save" && info.Mode().IsRegular() && fileKind(in) == "an l0 state" {
				continue // read whole before the state is written
			}
			return fmt.Errorf("%s %s is the input %s: writing it would destroy the input; name another file", o.Flag, input.DisplayName(o.Path), input.DisplayName(in))
		}
		if !info.Mode().IsRegular() || info.Size() == 0 {
			continue
		}
		if kind := fileKind(o.Path); kind != o.kind() {
			return fmt.Errorf("%s %s: the file exists and is %s, not %s: l0 writes over only %s (did a shell pattern put an input there?); remove it first if it must go",
				o.Flag, input.DisplayName(o.Path), kind, o.kind(), o.kind())
		}
	}
	return nil
}

// sameOutput reports whether two output paths name one file: the same
// file, or, where it does not exist yet, the same path once links are
// followed.
func sameOutput(a, b string) bool {
	if a == b {
		return true
	}
	ai, aerr := os.Stat(a)
	bi, berr := os.Stat(b)
	if aerr == nil && berr == nil {
		return os.SameFile(ai, bi)
	}
	ka, aerr := outputKey(a)
	kb, berr := outputKey(b)
	return aerr == nil && berr == nil && ka == kb
}

// outputKey names the file an output path will write, whether it exists
// or not: the real path of its directory (links followed), and its name.
func outputKey(path string) (string, error) {
	path, err := resolveOutput(path)
	if err != nil {
		return "", err
	}
	dir, base := splitPath(path)
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return "", err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", err
	}
	return filepath.Join(dir, base), nil
}

// fileKind names what a file holds, as far as deciding whether l0 may
// write over it: "an l0 state", "a sparsity file" (a safetensors file of
// the one F32 tensor "sparsity"), "a .npy array", "a safetensors file" or
// "a file l0 did not write".
func fileKind(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "a file l0 cannot read"
	}
	defer f.Close()
	var head [8]byte
	n, _ := io.ReadFull(f, head[:])
	switch {
	case bytes.HasPrefix(head[:n], []byte("L0FA")):
		return "an l0 state"
	case bytes.HasPrefix(head[:n], []byte("\x93NUMPY")):
		return "a .npy array"
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return "a file l0 did not write"
	}
	h, err := safetensors.ReadHeader(io.MultiReader(bytes.NewReader(head[:n]), f), info.Size())
	switch {
	case err != nil:
		return "a file l0 did not write"
	case len(h.Tensors) == 1 && h.Tensors[0].Name == "sparsity" && h.Tensors[0].DType == safetensors.Float32 && (len(h.Tensors[0].Shape) == 1 || len(h.Tensors[0].Shape) == 2):
		return "a sparsity file"
	case isFeatureStats(h):
		return "a feature stats file"
	}
	return fmt.Sprintf("a safetensors file of %d tensors", len(h.Tensors))
}

// featureStatsTensors are the tensors of a -feature-stats file, in order.
var featureStatsTensors = [...]struct {
	name  string
	dtype safetensors.DType
}{
	{"firing_counts", safetensors.Int64},
	{"sequences_fired", safetensors.Int64},
	{"feature_density", safetensors.Float64},
	{"consistent_activation_heuristic", safetensors.Float64},
	{"vectors_since_fired", safetensors.Int64}, // not in files of earlier releases
}

// isFeatureStats reports whether a safetensors header is a -feature-stats
// file's: its five tensors (the first four, of an earlier release's),
// nothing else.
func isFeatureStats(h *safetensors.Header) bool {
	want := featureStatsTensors[:]
	if len(h.Tensors) == len(want)-1 {
		want = want[:len(want)-1]
	}
	if len(h.Tensors) != len(want) {
		return false
	}
	for _, want := range want {
		t, ok := h.Lookup(want.name)
		if !ok || t.DType != want.dtype {
			return false
		}
	}
	return true
}
