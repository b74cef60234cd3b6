package report

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
)

// SaveState writes the tally's FeatureActivity state to path, whole or not
// at all.
func SaveState(path string, t tally.Tally) error {
	state, err := t.MarshalBinary()
	if err != nil {
		return err
	}
	return writeAtomically(path, func(w io.Writer) error {
		_, err := w.Write(state)
		return err
	})
}

// SaveSparsity writes SAELens' sparsity.safetensors to path, whole or not
// at all: one tensor "sparsity", F32, log10(density + 1e-10) per feature,
// of shape [features] or [components, features], laid out as the reference
// writer does. The values are encoded once, straight into the tensor's
// bytes.
func SaveSparsity(path string, t tally.Tally) error {
	values, err := t.Sparsity()
	if err != nil {
		return err
	}
	c := t.Config()
	shape := []int64{int64(c.Features)}
	if c.Components > 0 {
		shape = []int64{int64(c.Components), int64(c.Features)}
	}
	tensor := safetensors.TensorData{Name: "sparsity", DType: safetensors.Float32, Shape: shape, Data: values}
	return writeAtomically(path, func(w io.Writer) error {
		return safetensors.Write(w, []safetensors.TensorData{tensor}, nil)
	})
}

// SaveFeatureStats writes the per-sequence statistics of a tally with
// sequences to path, whole or not at all: a safetensors file of
// firing_counts (I64, the kept vectors each feature fired in),
// sequences_fired (I64, the sequences it fired in at a kept position),
// feature_density (F64, firing_counts / kept vectors) and
// consistent_activation_heuristic (F64, firing_counts / sequences_fired,
// NaN where that is 0) and vectors_since_fired (I64, the kept vectors
// after the last one each feature fired in; all of them for one that never
// did), each of shape [features] (or [components, features]).
func SaveFeatureStats(path string, t tally.Tally) error {
	s, err := t.FeatureStats()
	if err != nil {
		return err
	}
	if s.Vectors == 0 {
		return tally.ErrAllExcluded
	}
	c := t.Config()
	shape := []int64{int64(c.Features)}
	if c.Components > 0 {
		shape = []int64{int64(c.Components), int64(c.Features)}
	}
	n := len(s.Firings)
	firings, fired := make([]byte, 0, 8*n), make([]byte, 0, 8*n)
	density, cah := make([]byte, 0, 8*n), make([]byte, 0, 8*n)
	since := make([]byte, 0, 8*n)
	for _, v := range s.SinceFired {
		since = binary.LittleEndian.AppendUint64(since, uint64(v))
	}
	for i, f := range s.Firings {
		q := s.Fired[i]
		firings = binary.LittleEndian.AppendUint64(firings, f) // at most the vectors: below 2^63
		fired = binary.LittleEndian.AppendUint64(fired, q)
		density = binary.LittleEndian.AppendUint64(density, math.Float64bits(float64(f)/float64(s.Vectors)))
		h := math.NaN()
		if q > 0 {
			h = float64(f) / float64(q)
		}
		cah = binary.LittleEndian.AppendUint64(cah, math.Float64bits(h))
	}
	tensors := []safetensors.TensorData{
		{Name: "firing_counts", DType: safetensors.Int64, Shape: shape, Data: firings},
		{Name: "sequences_fired", DType: safetensors.Int64, Shape: shape, Data: fired},
		{Name: "feature_density", DType: safetensors.Float64, Shape: shape, Data: density},
		{Name: "consistent_activation_heuristic", DType: safetensors.Float64, Shape: shape, Data: cah},
		{Name: "vectors_since_fired", DType: safetensors.Int64, Shape: shape, Data: since},
	}
	return writeAtomically(path, func(w io.Writer) error {
		return safetensors.Write(w, tensors, nil)
	})
}

// writeAtomically has write write to a temporary file beside path and
// renames it to path, so that path holds all that write wrote or what it
// held before. A symbolic link is followed, a dangling one too: the file it
// names is written (created if need be, as the shell's > creates it), not
// the link. A new file's mode is 0666 less the umask, as os.Create makes
// it; a file written over keeps its mode (not its owner: the new file is
// the writer's). A path that names something other than a regular file (a
// device such as /dev/stdout, a named pipe) is written in place, with no
// temporary file: renaming over it would replace the device with a file.
func writeAtomically(path string, write func(io.Writer) error) error {
	path, err := resolveOutput(path)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		return errors.New("is a directory")
	case err == nil && !info.Mode().IsRegular():
		return writeInPlace(path, write)
	}
	dir, base := splitPath(path)
	f, err := createTemp(dir, base)
	if err != nil {
		return input.Pathless(err)
	}
	err = writeAndClose(f, write, true)
	if err == nil && info != nil {
		err = os.Chmod(f.Name(), info.Mode().Perm()) // the umask does not apply
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return input.Pathless(err)
	}
	return nil
}

// maxLinks bounds the symbolic links resolveOutput follows, as Linux's
// ELOOP does (40).
const maxLinks = 40

// resolveOutput returns the file an output path names: the path itself,
// or the end of the chain of symbolic links it starts, which need not
// exist yet. The links are read, not the paths cleaned: a relative target
// is joined to its link's directory as the kernel would resolve it
// (dir/sub/../x goes through the directory sub names), never shortened
// lexically.
func resolveOutput(path string) (string, error) {
	for range maxLinks {
		info, err := os.Lstat(path)
		if err != nil || info.Mode()&os.ModeSymlink == 0 {
			return path, nil
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", input.Pathless(err)
		}
		if !filepath.IsAbs(target) {
			dir, _ := splitPath(path)
			target = dir + string(os.PathSeparator) + target
		}
		path = target
	}
	return "", fmt.Errorf("more than %d symbolic links", maxLinks)
}

// splitPath splits a path after its last separator, without cleaning it:
// the directory ("." for none) and the name.
func splitPath(path string) (dir, base string) {
	i := len(path) - 1
	for i >= 0 && !os.IsPathSeparator(path[i]) {
		i--
	}
	switch {
	case i < 0:
		return ".", path
	case i == 0:
		return path[:1], path[1:]
	}
	return path[:i], path[i+1:]
}

// createTemp creates a new file of a random name beginning "."+base+"."
// in dir, of mode 0666 less the umask (os.CreateTemp's files are 0600).
func createTemp(dir, base string) (*os.File, error) {
	for {
		name := dir + string(os.PathSeparator) + "." + base + "." + strconv.FormatUint(rand.Uint64(), 36)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// writeInPlace has write write to path, an existing file that is not a
// regular one (nothing to rename over, nothing to sync).
func writeInPlace(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return input.Pathless(err)
	}
	return input.Pathless(writeAndClose(f, write, false))
}

// writeAndClose has write write to f through a buffer, flushes it, syncs f
// if asked, and closes it, whatever failed: the first error.
func writeAndClose(f *os.File, write func(io.Writer) error, sync bool) error {
	b := bufio.NewWriterSize(f, 1<<20)
	err := write(b)
	if err == nil {
		err = b.Flush()
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
