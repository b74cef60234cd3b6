package main

import (
	"bytes"
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
	return writeAtomically(path, state)
}

// saveSparsity writes SAELens' sparsity.safetensors to path: one tensor
// "sparsity", F32, log10(density + 1e-10) per feature, of shape [features]
// or [components, features], laid out as the reference writer does.
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
	var b bytes.Buffer
	if err := safetensors.Write(&b, []safetensors.TensorData{safetensors.Float32Tensor("sparsity", shape, values)}, nil); err != nil {
		return err
	}
	return writeAtomically(path, b.Bytes())
}

// writeAtomically writes data to a temporary file beside path and renames
// it to path, so that path holds all of data or what it held before.
func writeAtomically(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return pathless(err)
	}
	_, err = f.Write(data)
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
