package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unsafe"

	"github.com/sparsekit/l0/internal/rows"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/window"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// Top-k files: -sparse INDEX_KEY[,VALUE_KEY] -features D.
//
// A top-k SAE's encoder gives, per activation vector (and component), k
// feature indices and their k values; activation caches store them as two
// tensors of one safetensors file. l0 reads such a pair as the dense
// [batch, (components,) D] array it stands for, with metric.UpdateTopK,
// which leaves the counts exactly as the dense batch leaves them: the
// report, the state -save writes and the totals are the dense array's.
//
// The element type of the counts is the values' (F64 F32 F16 BF16); a pair
// without values is a mask of the entries, every one of which counts (the
// "fired" of sparsify), and is counted as uint8, as a BOOL array is: it
// merges with BOOL and U8 arrays, not with floats, and takes no threshold
// (a threshold of what?). The indices are widened or converted to an index
// type of the kernels (I8 I16 I32 to int32, U8 U16 to uint16, U32 as it
// is, I64 and U64 to int64); a U64 index at or past D is a bad index, never
// a wrapped one.
//
// Both tensors are read side by side at offsets, a batch of rows of each,
// so -sparse reads regular files only: a stream would have to be held
// whole to reach the second tensor.

// topKKeys are the tensors -sparse names: the indices, and the values or
// "" (every entry counts).
type topKKeys struct {
	index, values string
}

// on reports whether -sparse was given.
func (k topKKeys) on() bool { return k.index != "" }

// indexDTypes lists the dtypes of top-k indices; valueDTypes those of
// their values.
const (
	indexDTypes = "I64 I32 I16 I8 U64 U32 U16 U8"
	valueDTypes = "F64 F32 F16 BF16"
)

// maxTopKCounters bounds the (component, feature) pairs of a top-k input:
// its counters, 8 bytes each per worker and twice more for the total, are
// paid for by -features D, not by the file's bytes as a dense array's
// are, so a D of a few zeros too many must be an error, not an allocation
// that fails (2^32 counters would be 32 GiB). 2^27 is 8 times the widest
// SAEs published (16M latents), and 1 GiB of counters a copy (on 32-bit
// machines, metric.MaxCounters: 2^26).
const maxTopKCounters = min(1<<27, metric.MaxCounters)

// checkSparseFlags checks -sparse and -features and the flags they do not
// go with (set holds the flags given), and returns the tensors -sparse
// names.
func checkSparseFlags(sparse string, features int, set map[string]bool, files int) (topKKeys, error) {
	if !set["sparse"] {
		return topKKeys{}, errors.New("-features goes with -sparse (the dense arrays' features are in their shape)")
	}
	index, values, pair := strings.Cut(sparse, ",")
	keys := topKKeys{index, values}
	switch {
	case index == "":
		return keys, fmt.Errorf("-sparse %q: want INDEX_KEY or INDEX_KEY,VALUE_KEY, the names of the tensors", sparse)
	case pair && values == "":
		return keys, fmt.Errorf("-sparse %q: an empty VALUE_KEY (for a file without values, give INDEX_KEY alone)", sparse)
	case values == index:
		return keys, fmt.Errorf("-sparse %q: the indices and the values are one tensor", sparse)
	case !set["features"]:
		return keys, errors.New("-sparse needs -features D, the number of features the indices select from (the dense array's last dimension)")
	case features < 1:
		return keys, fmt.Errorf("-features %d: want 1 or more", features)
	case features > maxTopKCounters:
		return keys, fmt.Errorf("-features %d: more features than l0 counts for a top-k file (%d)", features, maxTopKCounters)
	case set["key"]:
		return keys, errors.New("-sparse and -key: -sparse names the tensors it reads")
	case set["positions"] || set["skip-positions"]:
		return keys, errors.New("-sparse and -positions: a top-k pair is [batch, k] or [batch, components, k]; l0 reads no positions of it")
	case values == "" && (set["threshold"] || set["abs-threshold"]):
		flag := "-threshold"
		if set["abs-threshold"] {
			flag = "-abs-threshold"
		}
		return keys, fmt.Errorf("%s compares values, and -sparse %s names none: without VALUE_KEY every entry counts", flag, sparse)
	case files == 0:
		return keys, errors.New("-sparse reads the files named: give one or more")
	}
	return keys, nil
}

// A topKPair is the two tensors of a top-k input.
type topKPair struct {
	header         *safetensors.Header
	index          safetensors.Tensor
	values         safetensors.Tensor // DType Invalid: no values
	k              int                // the entries of a vector (per component)
	indexRowBytes  int64
	valuesRowBytes int64
}

func (p *topKPair) hasValues() bool { return p.values.DType != safetensors.Invalid }

// openTopK reads a safetensors header and the top-k pair -sparse names.
func (in *input) openTopK(r io.Reader, ra io.ReaderAt, size int64, s settings) error {
	if ra == nil {
		return errors.New("-sparse reads regular files only (the indices and the values are read side by side, at offsets), and this is a stream: save it to a file")
	}
	h, err := safetensors.ReadHeader(r, size)
	if err != nil {
		return err
	}
	p := &topKPair{header: h}
	var ok bool
	if p.index, ok = h.Lookup(s.sparse.index); !ok {
		return fmt.Errorf("%w: no tensor %q (-sparse INDEX_KEY); the file holds %s", safetensors.ErrNotFound, s.sparse.index, listTensors(h))
	}
	idx := p.index
	if !isIndexDType(idx.DType) {
		return fmt.Errorf("%w: the indices %q are %s %s: -sparse wants an integer dtype (%s)", safetensors.ErrUnsupported, idx.Name, idx.DType, idx.ShapeString(), indexDTypes)
	}
	if len(idx.Shape) != 2 && len(idx.Shape) != 3 {
		return fmt.Errorf("the indices %q have the shape %s, of rank %d; -sparse wants [batch, k] or [batch, components, k]", idx.Name, idx.ShapeString(), len(idx.Shape))
	}
	e := elemUint8 // a mask: every entry counts
	if s.sparse.values != "" {
		if p.values, ok = h.Lookup(s.sparse.values); !ok {
			return fmt.Errorf("%w: no tensor %q (-sparse INDEX_KEY,VALUE_KEY); the file holds %s", safetensors.ErrNotFound, s.sparse.values, listTensors(h))
		}
		v := p.values
		if e = safetensorsElem(v.DType); e == elemInvalid || !e.isFloat() {
			return fmt.Errorf("%w: the values %q are %s %s: -sparse wants a float dtype (%s), or no values", safetensors.ErrUnsupported, v.Name, v.DType, v.ShapeString(), valueDTypes)
		}
		if !slices.Equal(v.Shape, idx.Shape) {
			return fmt.Errorf("the values %q %s and the indices %q %s differ in shape", v.Name, v.ShapeString(), idx.Name, idx.ShapeString())
		}
	}
	k := idx.Shape[len(idx.Shape)-1]
	if int64(int(k)) != k {
		return fmt.Errorf("the indices %q %s: k = %d is too large for this machine", idx.Name, idx.ShapeString(), k)
	}
	p.k = int(k)
	// ReadHeader bounded each tensor's rows below 2^63 bytes, not their sum.
	p.indexRowBytes = idx.Bytes() / max(idx.Shape[0], 1)
	p.valuesRowBytes = p.values.Bytes() / max(idx.Shape[0], 1)
	if idx.Shape[0] == 0 {
		p.indexRowBytes, p.valuesRowBytes = 0, 0 // no rows: "no vectors" below
	}
	shape := slices.Clone(idx.Shape)
	shape[len(shape)-1] = int64(s.features)
	in.format, in.shape, in.topk = "topk", shape, p
	in.config.elem = e
	in.dtype = e.String()
	values := "no values (every entry counts)"
	if p.hasValues() {
		in.dtype = p.values.DType.String()
		values = fmt.Sprintf("values %q %s", p.values.Name, p.values.DType)
	}
	in.describe = fmt.Sprintf("%s %s, top-k %q %s %s and %s, safetensors", shapeOf(shape), e, idx.Name, idx.DType, idx.ShapeString(), values)
	in.dataBytes = idx.Bytes() + p.values.Bytes()
	in.layout = window.Layout{Offset: h.DataOffset() + idx.Begin, RowBytes: p.indexRowBytes + p.valuesRowBytes, Rows: idx.Shape[0], ElemSize: 1}
	in.src = ra
	if c := shape[1]; p.k == 0 && len(shape) == 3 && c > 1 && (c > maxFeaturelessSlots || c*shape[2] > maxFeaturelessSlots) {
		// No bytes pay for these components, and each costs the counters
		// of -features D.
		return fmt.Errorf("the indices %q %s have no entries (k = 0) for %d components × %d features; l0 takes at most %d (component, feature) pairs of no entries",
			idx.Name, idx.ShapeString(), shape[1], shape[2], maxFeaturelessSlots)
	}
	if len(shape) == 3 && shape[1] > maxTopKCounters/int64(s.features) {
		return fmt.Errorf("the indices %q %s select from %d components × %d features (-features); l0 counts at most %d (component, feature) pairs of a top-k file",
			idx.Name, idx.ShapeString(), shape[1], s.features, maxTopKCounters)
	}
	return nil
}

// isIndexDType reports whether d is a dtype of top-k indices: an integer.
func isIndexDType(d safetensors.DType) bool {
	switch d {
	case safetensors.Int8, safetensors.Int16, safetensors.Int32, safetensors.Int64,
		safetensors.Uint8, safetensors.Uint16, safetensors.Uint32, safetensors.Uint64:
		return true
	}
	return false
}

// topK counts the rows [from, to) of a top-k pair into the tally get
// returns, a batch of rows of each tensor at a time: bufferBytes of both
// (at least a row), all rows at once when they have no bytes (k = 0). The
// memory is the batch's bytes, and 4 bytes an index where the indices are
// widened (I8, I16; 2 for U8).
func (c *counter) topK(in *input, from, to int64, get func() (tally, error)) error {
	p := in.topk
	index, err := p.header.NewRangeReader(in.src, p.index.Name, from, to)
	if err != nil {
		return err
	}
	var values *safetensors.Reader
	if p.hasValues() {
		if values, err = p.header.NewRangeReader(in.src, p.values.Name, from, to); err != nil {
			return err
		}
	}
	rowBytes := p.indexRowBytes + p.valuesRowBytes
	batch := to - from
	if rowBytes > 0 {
		batch = max(1, min(batch, int64(bufferBytes)/rowBytes))
	}
	c.buf = rows.Grow(c.buf, batch*p.indexRowBytes)
	c.values = rows.Grow(c.values, batch*p.valuesRowBytes)
	var t tally
	for row := from; ; {
		n, err := index.ReadRows(rows.Bytes(c.buf)[:batch*p.indexRowBytes])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return changed(err)
		}
		var v []byte
		if values != nil {
			v = rows.Bytes(c.values)[:n*p.valuesRowBytes]
			m, err := values.ReadRows(v)
			if err != nil {
				return changed(err)
			}
			if m != n {
				return fmt.Errorf("read %d rows of the values %q for %d of the indices %q", m, p.values.Name, n, p.index.Name)
			}
		}
		if t == nil {
			if t, err = get(); err != nil {
				return err
			}
		}
		if testHookWindow != nil {
			testHookWindow(in)
		}
		ix, err := c.indices(p, rows.Bytes(c.buf)[:n*p.indexRowBytes], row, in.config)
		if err != nil {
			return err
		}
		if err := t.addTopK(ix, v, n, p.k); err != nil {
			if errors.Is(err, kernel.ErrIndex) {
				return badIndex(p, ix, row, in.config)
			}
			return err
		}
		c.p.add(n * rowBytes)
		row += n
	}
}

// changed says that a read of a regular file, whose size bore out its
// header, came up short: the file changed while it was read.
func changed(err error) error {
	if errors.Is(err, safetensors.ErrTruncated) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %v", window.ErrChanged, err)
	}
	return err
}

// indices returns the indices of a batch of rows as a slice of a kernel
// index type: the bytes themselves where the dtype is one (I32 U16 U32
// I64, and U64 once no index is at or past the features), else widened into
// the counter's scratch.
func (c *counter) indices(p *topKPair, b []byte, row int64, conf config) (any, error) {
	switch p.index.DType {
	case safetensors.Int32:
		return rows.As[int32](b), nil
	case safetensors.Int64:
		return rows.As[int64](b), nil
	case safetensors.Uint16:
		return rows.As[uint16](b), nil
	case safetensors.Uint32:
		return rows.As[uint32](b), nil
	case safetensors.Uint64:
		x := rows.As[uint64](b)
		for i, v := range x {
			if v >= uint64(conf.features) {
				return nil, indexOutside(p, row, i, fmt.Sprint(v), conf)
			}
		}
		return rows.As[int64](b), nil
	case safetensors.Int8:
		return widen[int8, int32](c, rows.As[int8](b)), nil
	case safetensors.Int16:
		return widen[int16, int32](c, rows.As[int16](b)), nil
	case safetensors.Uint8:
		return widen[uint8, uint16](c, rows.As[uint8](b)), nil
	}
	return nil, fmt.Errorf("the indices %q are %s, not an integer dtype", p.index.Name, p.index.DType)
}

// widen converts narrow indices to a kernel index type, in the counter's
// scratch.
func widen[N int8 | int16 | uint8, W int32 | uint16](c *counter, x []N) []W {
	var w W
	c.wide = rows.Grow(c.wide, int64(len(x))*int64(unsafe.Sizeof(w)))
	out := rows.As[W](rows.Bytes(c.wide))[:len(x)]
	for i, v := range x {
		out[i] = W(v)
	}
	return out
}

// addTopK counts rows of a top-k pair into the tally: index one of
// []int32, []int64, []uint16, []uint32, values the rows' values as T's
// bytes or nil (every entry counts), k entries per vector and component.
func (t *typed[T]) addTopK(index any, values []byte, n int64, k int) error {
	if n == 0 {
		return nil
	}
	var v []T
	if values != nil {
		v = rows.As[T](values)
	}
	shape := []int{int(n), k}
	if t.c.components > 0 {
		shape = []int{int(n), t.c.components, k}
	}
	t.updates++
	switch x := index.(type) {
	case []int32:
		return metric.UpdateTopK(t.act, x, v, shape...)
	case []int64:
		return metric.UpdateTopK(t.act, x, v, shape...)
	case []uint16:
		return metric.UpdateTopK(t.act, x, v, shape...)
	case []uint32:
		return metric.UpdateTopK(t.act, x, v, shape...)
	}
	return fmt.Errorf("top-k indices of type %T", index)
}

// badIndex finds the first index outside [0, features) of a batch that
// UpdateTopK refused, and says where it is in the file.
func badIndex(p *topKPair, index any, row int64, conf config) error {
	switch x := index.(type) {
	case []int32:
		return firstOutside(p, x, row, conf)
	case []int64:
		return firstOutside(p, x, row, conf)
	case []uint16:
		return firstOutside(p, x, row, conf)
	case []uint32:
		return firstOutside(p, x, row, conf)
	}
	return fmt.Errorf("top-k indices of type %T", index)
}

func firstOutside[I kernel.Index](p *topKPair, x []I, row int64, conf config) error {
	for i, v := range x {
		if int64(v) < 0 || int64(v) >= int64(conf.features) {
			return indexOutside(p, row, i, fmt.Sprint(v), conf)
		}
	}
	return fmt.Errorf("%w: %w: an index of the indices %q outside [0, %d)", metric.ErrShape, kernel.ErrIndex, p.index.Name, conf.features)
}

// indexOutside is the error of entry i of a batch from row on: an index
// outside [0, features).
func indexOutside(p *topKPair, row int64, i int, value string, conf config) error {
	slots := max(conf.components, 1)
	at := fmt.Sprintf("%d, %d", row+int64(i/(slots*p.k)), i%p.k)
	if conf.components > 0 {
		at = fmt.Sprintf("%d, %d, %d", row+int64(i/(slots*p.k)), i/p.k%slots, i%p.k)
	}
	return indexError{fmt.Sprintf("the indices %q hold %s at [%s], outside [0, %d) (-features %d)", p.index.Name, value, at, conf.features, conf.features)}
}

// indexError is a top-k index outside [0, features): an error of metric's
// and the kernels' kinds, ErrShape and ErrIndex, said in the file's terms.
type indexError struct{ msg string }

func (e indexError) Error() string   { return e.msg }
func (e indexError) Unwrap() []error { return []error{metric.ErrShape, kernel.ErrIndex} }
