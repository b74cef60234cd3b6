package input

import (
	"fmt"
	"io"
	"strings"

	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/internal/window"
)

// openSafetensors reads a safetensors header and picks the tensor to
// read: -key's, or the one tensor of rank 2 or 3 of a dtype l0 counts.
func (in *Input) openSafetensors(r io.Reader, ra io.ReaderAt, size int64, o Options) error {
	h, err := safetensors.ReadHeader(r, size)
	if err != nil {
		return err
	}
	if !o.Keyed && o.Key == "" && isDelphiSplit(h) {
		return in.openDelphiSplit(h, ra, o)
	}
	t, err := pickTensor(h, o.Key, o.Keyed || o.Key != "")
	if err != nil {
		return err
	}
	e := SafetensorsElem(t.DType)
	if e == tally.Invalid || len(t.Shape) == 0 {
		// Only a -key can name such a tensor.
		return fmt.Errorf("%w: tensor %q is %s %s: l0 counts tensors of rank 2 or 3 of %s", safetensors.ErrUnsupported, t.Name, t.DType, t.ShapeString(), countedDTypes)
	}
	rowBytes := int64(e.Size())
	for _, d := range t.Shape[1:] {
		rowBytes *= d // ReadHeader bounded the product, zeros aside
	}
	in.Format, in.Shape, in.DType, in.Tensor, in.header = Safetensors, t.Shape, t.DType.String(), t.Name, h
	in.Config.Elem = e
	in.Describe = fmt.Sprintf("%q %s %s (%s), safetensors", t.Name, t.ShapeString(), e, t.DType)
	in.DataBytes = t.Bytes()
	layout := window.Layout{Offset: h.DataOffset() + t.Begin, RowBytes: rowBytes, Rows: t.Shape[0], ElemSize: e.Size()}
	if ra != nil {
		in.rows = &denseRows{in: in, src: ra, layout: layout}
		return nil
	}
	rd, err := h.NewReader(r, t.Name)
	if err != nil {
		return err
	}
	in.rows = &streamRows{in: in, rd: rd}
	return nil
}

// maxListedTensors bounds the tensors an error lists: a checkpoint holds
// thousands.
const maxListedTensors = 16

// pickTensor returns the tensor named key (keyed: -key was given, and a
// tensor may be named ""), or without a key the one tensor of rank 2 or 3
// of a dtype l0 counts; otherwise an error that lists the file's tensors.
func pickTensor(h *safetensors.Header, key string, keyed bool) (safetensors.Tensor, error) {
	if keyed {
		t, ok := h.Lookup(key)
		if !ok {
			return t, fmt.Errorf("%w: no tensor %q (-key); the file holds %s", safetensors.ErrNotFound, key, listTensors(h))
		}
		return t, nil
	}
	var found []safetensors.Tensor
	for _, t := range h.Tensors {
		if (len(t.Shape) == 2 || len(t.Shape) == 3) && SafetensorsElem(t.DType) != tally.Invalid {
			found = append(found, t)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	what := "no tensor"
	if len(found) > 1 {
		what = fmt.Sprintf("%d tensors", len(found))
	}
	return safetensors.Tensor{}, fmt.Errorf("%s of rank 2 or 3 of a dtype l0 counts: pick one with -key NAME; the file holds %s", what, listTensors(h))
}

// listTensors describes a file's tensors, at most maxListedTensors of them.
func listTensors(h *safetensors.Header) string {
	if len(h.Tensors) == 0 {
		return "no tensors"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d: ", len(h.Tensors))
	for i, t := range h.Tensors {
		if i == maxListedTensors {
			fmt.Fprintf(&b, ", and %d more", len(h.Tensors)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.String())
		if SafetensorsElem(t.DType) == tally.Invalid {
			b.WriteString(" (a dtype l0 does not count)")
		}
	}
	return b.String()
}

// ShapeOf writes a shape as the safetensors header spells it, at most 16
// dimensions of it, as safetensors.Tensor.ShapeString does.
func ShapeOf(shape []int64) string {
	return safetensors.Tensor{Shape: shape}.ShapeString()
}
