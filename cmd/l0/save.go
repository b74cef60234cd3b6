package main

import (
	"bufio"
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
// held before.
func writeAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return pathless(err)
	}
	b := bufio.NewWriterSize(f, 1<<20)
	err = write(b)
	if err == nil {
		err = b.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
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
