package input

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"unsafe"

	"github.com/sparsekit/l0/internal/rows"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
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

// TopKKeys are the tensors -sparse names: the indices, and the values or
// "" (every entry counts).
type TopKKeys struct {
	Index, Values string
}

// On reports whether -sparse was given.
func (k TopKKeys) On() bool { return k.Index != "" }

// IndexDTypes lists the dtypes of top-k indices; ValueDTypes those of
// their values.
const (
	IndexDTypes = "I64 I32 I16 I8 U64 U32 U16 U8"
	ValueDTypes = "F64 F32 F16 BF16"
)

// MaxTopKCounters bounds the (component, feature) pairs of a top-k input:
// its counters, 8 bytes each per worker and twice more for the total, are
// paid for by -features D, not by the file's bytes as a dense array's
// are, so a D of a few zeros too many must be an error, not an allocation
// that fails (2^32 counters would be 32 GiB). 2^27 is 8 times the widest
// SAEs published (16M latents), and 1 GiB of counters a copy (on 32-bit
// machines, metric.MaxCounters: 2^26).
const MaxTopKCounters = min(1<<27, metric.MaxCounters)

// A Pair describes the two tensors of a top-k input, as reports name them.
type Pair struct {
	Index, IndexDType   string
	Values, ValuesDType string // "": no values, every entry counts
	K                   int    // the entries of a vector (per component)
}

// topKRows are the rows of a top-k pair: both tensors' rows, read side by
// side at offsets.
type topKRows struct {
	in             *Input
	src            io.ReaderAt
	header         *safetensors.Header
	index          safetensors.Tensor
	values         safetensors.Tensor // DType Invalid: no values
	k              int
	indexRowBytes  int64
	valuesRowBytes int64
}

func (p *topKRows) hasValues() bool { return p.values.DType != safetensors.Invalid }

// openTopK reads a safetensors header and the top-k pair -sparse names.
func (in *Input) openTopK(r io.Reader, ra io.ReaderAt, size int64, o Options) error {
	if ra == nil {
		return errors.New("-sparse reads regular files only (the indices and the values are read side by side, at offsets), and this is a stream: save it to a file")
	}
	h, err := safetensors.ReadHeader(r, size)
	if err != nil {
		return err
	}
	p := &topKRows{in: in, src: ra, header: h}
	in.header = h
	var ok bool
	if p.index, ok = h.Lookup(o.TopK.Index); !ok {
		return fmt.Errorf("%w: no tensor %q (-sparse INDEX_KEY); the file holds %s", safetensors.ErrNotFound, o.TopK.Index, listTensors(h))
	}
	idx := p.index
	if !IsIndexDType(idx.DType) {
		return fmt.Errorf("%w: the indices %q are %s %s: -sparse wants an integer dtype (%s)", safetensors.ErrUnsupported, idx.Name, idx.DType, idx.ShapeString(), IndexDTypes)
	}
	if len(idx.Shape) != 2 && len(idx.Shape) != 3 {
		return fmt.Errorf("the indices %q have the shape %s, of rank %d; -sparse wants [batch, k] or [batch, components, k]", idx.Name, idx.ShapeString(), len(idx.Shape))
	}
	e := tally.Uint8 // a mask: every entry counts
	if o.TopK.Values != "" {
		if p.values, ok = h.Lookup(o.TopK.Values); !ok {
			return fmt.Errorf("%w: no tensor %q (-sparse INDEX_KEY,VALUE_KEY); the file holds %s", safetensors.ErrNotFound, o.TopK.Values, listTensors(h))
		}
		v := p.values
		if e = SafetensorsElem(v.DType); e == tally.Invalid || !e.IsFloat() {
			return fmt.Errorf("%w: the values %q are %s %s: -sparse wants a float dtype (%s), or no values", safetensors.ErrUnsupported, v.Name, v.DType, v.ShapeString(), ValueDTypes)
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
	shape[len(shape)-1] = int64(o.Features)
	in.Format, in.Shape, in.rows = TopK, shape, p
	in.Pair = &Pair{Index: idx.Name, IndexDType: idx.DType.String(), K: p.k}
	in.Config.Elem = e
	in.DType = e.String()
	values := "no values (every entry counts)"
	if p.hasValues() {
		in.DType = p.values.DType.String()
		in.Pair.Values, in.Pair.ValuesDType = p.values.Name, p.values.DType.String()
		values = fmt.Sprintf("values %q %s", p.values.Name, p.values.DType)
	}
	in.Describe = fmt.Sprintf("%s %s, top-k %q %s %s and %s, safetensors", ShapeOf(shape), e, idx.Name, idx.DType, idx.ShapeString(), values)
	in.DataBytes = idx.Bytes() + p.values.Bytes()
	if c := shape[1]; p.k == 0 && len(shape) == 3 && c > 1 && (c > MaxFeaturelessSlots || c*shape[2] > MaxFeaturelessSlots) {
		// No bytes pay for these components, and each costs the counters
		// of -features D.
		return fmt.Errorf("the indices %q %s have no entries (k = 0) for %d components × %d features; l0 takes at most %d (component, feature) pairs of no entries",
			idx.Name, idx.ShapeString(), shape[1], shape[2], MaxFeaturelessSlots)
	}
	if len(shape) == 3 && shape[1] > MaxTopKCounters/int64(o.Features) {
		return fmt.Errorf("the indices %q %s select from %d components × %d features (-features); l0 counts at most %d (component, feature) pairs of a top-k file",
			idx.Name, idx.ShapeString(), shape[1], o.Features, MaxTopKCounters)
	}
	return nil
}

// IsIndexDType reports whether d is a dtype of top-k indices: an integer.
func IsIndexDType(d safetensors.DType) bool {
	switch d {
	case safetensors.Int8, safetensors.Int16, safetensors.Int32, safetensors.Int64,
		safetensors.Uint8, safetensors.Uint16, safetensors.Uint32, safetensors.Uint64:
		return true
	}
	return false
}

func (p *topKRows) span() (int64, int64, bool) {
	return p.index.Shape[0], p.indexRowBytes + p.valuesRowBytes, true
}

// count counts the rows [from, to) of a top-k pair into the tally get
// returns, a batch of rows of each tensor at a time: the worker's buffer
// size of both (at least a row), all rows at once when they have no bytes
// (k = 0). The memory is the batch's bytes, and 4 bytes an index where the
// indices are widened (I8, I16; 2 for U8).
func (p *topKRows) count(w *Worker, from, to int64, get func() (tally.Tally, error)) error {
	index, err := p.header.NewRangeReader(p.src, p.index.Name, from, to)
	if err != nil {
		return err
	}
	var values *safetensors.Reader
	if p.hasValues() {
		if values, err = p.header.NewRangeReader(p.src, p.values.Name, from, to); err != nil {
			return err
		}
	}
	rowBytes := p.indexRowBytes + p.valuesRowBytes
	batch := to - from
	if rowBytes > 0 {
		batch = max(1, min(batch, int64(w.c.BufferBytes)/rowBytes))
	}
	w.buf = rows.Grow(w.buf, batch*p.indexRowBytes)
	w.values = rows.Grow(w.values, batch*p.valuesRowBytes)
	var t tally.Tally
	for row := from; ; {
		n, err := index.ReadRows(rows.Bytes(w.buf)[:batch*p.indexRowBytes])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return changed(err)
		}
		var v []byte
		if values != nil {
			v = rows.Bytes(w.values)[:n*p.valuesRowBytes]
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
		w.beforeBatch(p.in)
		ix, err := p.indices(w, rows.Bytes(w.buf)[:n*p.indexRowBytes], row)
		if err != nil {
			return err
		}
		if err := p.add(w, t, ix, v, row, n); err != nil {
			if errors.Is(err, kernel.ErrIndex) {
				return p.badIndex(ix, row)
			}
			return err
		}
		w.read(n * rowBytes)
		row += n
	}
}

// add counts n rows of indices and values from row on into t: masked by
// their tokens' ids with -exclude-tokens.
func (p *topKRows) add(w *Worker, t tally.Tally, index any, values []byte, row, n int64) error {
	if p.in.tokens == nil {
		return t.AddTopK(index, values, n, p.k)
	}
	keep, err := p.in.tokens.keep(w, row, n)
	if err != nil {
		return err
	}
	return t.AddTopKMasked(index, values, n, p.k, keep)
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
// the worker's scratch.
func (p *topKRows) indices(w *Worker, b []byte, row int64) (any, error) {
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
			if v >= uint64(p.in.Config.Features) {
				return nil, p.indexOutside(row, i, fmt.Sprint(v))
			}
		}
		return rows.As[int64](b), nil
	case safetensors.Int8:
		return widen[int8, int32](w, rows.As[int8](b)), nil
	case safetensors.Int16:
		return widen[int16, int32](w, rows.As[int16](b)), nil
	case safetensors.Uint8:
		return widen[uint8, uint16](w, rows.As[uint8](b)), nil
	}
	return nil, fmt.Errorf("the indices %q are %s, not an integer dtype", p.index.Name, p.index.DType)
}

// widen converts narrow indices to a kernel index type, in the worker's
// scratch.
func widen[N int8 | int16 | uint8, W int32 | uint16](w *Worker, x []N) []W {
	var zero W
	w.wide = rows.Grow(w.wide, int64(len(x))*int64(unsafe.Sizeof(zero)))
	out := rows.As[W](rows.Bytes(w.wide))[:len(x)]
	for i, v := range x {
		out[i] = W(v)
	}
	return out
}

// badIndex finds the first index outside [0, features) of a batch that
// the tally refused, and says where it is in the file.
func (p *topKRows) badIndex(index any, row int64) error {
	switch x := index.(type) {
	case []int32:
		return firstOutside(p, x, row)
	case []int64:
		return firstOutside(p, x, row)
	case []uint16:
		return firstOutside(p, x, row)
	case []uint32:
		return firstOutside(p, x, row)
	}
	return fmt.Errorf("top-k indices of type %T", index)
}

func firstOutside[I kernel.Index](p *topKRows, x []I, row int64) error {
	features := int64(p.in.Config.Features)
	for i, v := range x {
		if int64(v) < 0 || int64(v) >= features {
			return p.indexOutside(row, i, fmt.Sprint(v))
		}
	}
	return fmt.Errorf("%w: %w: an index of the indices %q outside [0, %d)", metric.ErrShape, kernel.ErrIndex, p.index.Name, features)
}

// indexOutside is the error of entry i of a batch from row on: an index
// outside [0, features).
func (p *topKRows) indexOutside(row int64, i int, value string) error {
	c := p.in.Config
	slots := c.Slots()
	if c.Positions > 0 {
		slots = c.Skip + c.Positions
	}
	at := fmt.Sprintf("%d, %d", row+int64(i/(slots*p.k)), i%p.k)
	if c.Components > 0 || c.Positions > 0 {
		at = fmt.Sprintf("%d, %d, %d", row+int64(i/(slots*p.k)), i/p.k%slots, i%p.k)
	}
	return indexError{fmt.Sprintf("the indices %q hold %s at [%s], outside [0, %d) (-features %d)", p.index.Name, value, at, c.Features, c.Features)}
}

// indexError is a top-k index outside [0, features): an error of metric's
// and the kernels' kinds, ErrShape and ErrIndex, said in the file's terms.
type indexError struct{ msg string }

func (e indexError) Error() string   { return e.msg }
func (e indexError) Unwrap() []error { return []error{metric.ErrShape, kernel.ErrIndex} }
