package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sparsekit/l0/internal/safetensors"
)

// An output is a file a run writes: -save's state or -sparsity's file.
type output struct {
	flag string // "-save" or "-sparsity"
	path string
}

// kind names what the output holds, as a file l0 may write over.
func (o output) kind() string {
	if o.flag == "-save" {
		return "an l0 state"
	}
	return "a sparsity file"
}

// checkOutputs refuses, before anything is read or written, the outputs
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
func checkOutputs(outputs []output, inputs []string) error {
	var set []output
	for _, o := range outputs {
		if o.path != "" {
			set = append(set, o)
		}
	}
	if len(set) == 2 && sameOutput(set[0].path, set[1].path) {
		if set[0].path == set[1].path {
			return errors.New("-save and -sparsity name the same file")
		}
		return fmt.Errorf("-save %s and -sparsity %s are the same file", displayName(set[0].path), displayName(set[1].path))
	}
	for _, o := range set {
		info, err := os.Stat(o.path)
		if err != nil {
			continue // nothing there yet (or nothing l0 can write: said later)
		}
		for _, in := range inputs {
			inInfo, err := os.Stat(in)
			if err != nil || !os.SameFile(info, inInfo) {
				continue
			}
			if o.flag == "-save" && info.Mode().IsRegular() && fileKind(in) == "an l0 state" {
				continue // read whole before the state is written
			}
			return fmt.Errorf("%s %s is the input %s: writing it would destroy the input; name another file", o.flag, displayName(o.path), displayName(in))
		}
		if !info.Mode().IsRegular() || info.Size() == 0 {
			continue
		}
		if kind := fileKind(o.path); kind != o.kind() {
			return fmt.Errorf("%s %s: the file exists and is %s, not %s: l0 writes over only %s (did a shell pattern put an input there?); remove it first if it must go",
				o.flag, displayName(o.path), kind, o.kind(), o.kind())
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
	}
	return fmt.Sprintf("a safetensors file of %d tensors", len(h.Tensors))
}

// checkStreams refuses a path that is not a regular file (a pipe,
// /dev/stdin) given more than once, by any name: a stream can be read
// once, and two readers of one pipe would each read bytes from under the
// other.
func checkStreams(inputs []string) error {
	type seen struct {
		name string
		info os.FileInfo
	}
	var streams []seen
	for _, name := range inputs {
		info, err := os.Stat(name)
		if err != nil || info.Mode().IsRegular() || info.IsDir() {
			continue
		}
		for _, s := range streams {
			if os.SameFile(s.info, info) {
				also := ""
				if s.name != name {
					also = " (as " + displayName(s.name) + ")"
				}
				return fmt.Errorf("%s is given twice%s, and is not a regular file: a stream can be read once; give it once", displayName(name), also)
			}
		}
		streams = append(streams, seen{name, info})
	}
	return nil
}
