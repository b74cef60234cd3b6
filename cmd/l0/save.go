package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/sparsekit/l0/internal/safetensors"
)

// saveState writes the tally's FeatureActivity state to path.
func saveState(path string, t tally) error {
	state, err := t.marshal()
	if err != nil {
		return err
	}
	return writeAtomically(path, func(w io.Writer) error {
		_, err := w.Write(state)
		return err
	})
}

// saveSparsity writes SAELens' sparsity.safetensors to path: one tensor
// "sparsity", F32, log10(density + 1e-10) per feature, of shape [features]
// or [components, features], laid out as the reference writer does. The
// values are encoded once, straight into the tensor's bytes.
func saveSparsity(path string, t tally) error {
	values, err := t.sparsity()
	if err != nil {
		return err
	}
	c := t.config()
	shape := []int64{int64(c.features)}
	if c.components > 0 {
		shape = []int64{int64(c.components), int64(c.features)}
	}
	tensor := safetensors.TensorData{Name: "sparsity", DType: safetensors.Float32, Shape: shape, Data: values}
	return writeAtomically(path, func(w io.Writer) error {
		return safetensors.Write(w, []safetensors.TensorData{tensor}, nil)
	})
}

// writeAtomically has write write to a temporary file beside path and
// renames it to path, so that path holds all that write wrote or what it
// held before. A symbolic link is followed: the file it names is replaced,
// not the link. A path that names something other than a regular file (a
// device such as /dev/stdout, a named pipe) is written in place, with no
// temporary file: renaming over it would replace the device with a file.
func writeAtomically(path string, write func(io.Writer) error) error {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		if info.IsDir() {
			return errors.New("is a directory")
		}
		return writeInPlace(path, write)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return pathless(err)
	}
	err = writeAndClose(f, write, true)
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return pathless(err)
	}
	return nil
}

// writeInPlace has write write to path, an existing file that is not a
// regular one (nothing to rename over, nothing to sync).
func writeInPlace(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return pathless(err)
	}
	return pathless(writeAndClose(f, write, false))
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
