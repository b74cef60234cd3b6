package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/window"
	"github.com/sparsekit/l0/metric"
)

// An input is one file l0 reads, opened and checked: what its header (or
// state) says, the configuration its counts take, and where its rows are.
//
// Three formats are recognised by their first bytes, never by the file's
// name: a .npy array ("\x93NUMPY"), a FeatureActivity state as -save
// writes it ("L0FA", metric's binary format), and otherwise a safetensors
// file (a little-endian header length, then a JSON object). With -sparse a
// safetensors file is a fourth kind of input, a top-k pair of tensors
// (topk.go): described by the same fields, as the dense array it stands
// for, and counted by a job of its own into the same tallies.
type input struct {
	name   string
	format string // "npy", "safetensors", "state" or "topk"

	// What the report says of the array.
	shape    []int64 // the array's shape; a state's [vectors, (components,) features]
	dtype    string  // as the file spells it: "<f4", "BF16"; a state's element type
	describe string  // the text report's line on the array
	tensor   string  // the safetensors tensor read
	config   config  // what the counts are over

	// Where the rows are: a source read at offsets (a regular file, the
	// sample in memory; a state file, whole), or a stream read in order,
	// or the bytes of a state read from a stream.
	layout    window.Layout
	src       io.ReaderAt
	stream    rowStream
	state     []byte
	dataBytes int64     // the bytes of rows the header describes
	topk      *topKPair // a top-k pair's tensors (-sparse), read at offsets from src
	closer    io.Closer
}

// rowStream is the sequential row reader of a stream of unknown size:
// npy.Reader or safetensors.Reader.
type rowStream interface {
	ReadRow(buf []uint64) ([]uint64, error)
	ReadRows(p []byte) (int64, error)
	RowsLeft() int64
}

// close releases the input's file, if it has one.
func (in *input) close() {
	if in.closer != nil {
		in.closer.Close()
		in.closer = nil
	}
}

// openFile opens the named file as an input. Only a regular file's size
// is trusted; pipes and devices are read as streams.
func openFile(name string, s settings) (*input, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, pathless(err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, pathless(err)
	}
	size := int64(-1)
	switch {
	case info.IsDir():
		f.Close()
		return nil, errors.New("is a directory")
	case info.Mode().IsRegular():
		size = info.Size()
	}
	var r io.Reader = f
	if size < 0 {
		r = struct{ io.Reader }{f} // not an io.ReaderAt: read in order
	}
	in, err := openInput(name, r, size, s)
	if err != nil {
		f.Close()
		return nil, pathless(err)
	}
	in.closer = f
	return in, nil
}

// pathless drops the paths from an os error: the message names the file
// already (as displayName shows it).
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}

// openInput reads the header of an input from r: size bytes from its
// first on, or -1 when the size is not known (a stream). When size is
// known r must also be an io.ReaderAt, from which the rows are read at
// offsets. Every problem with the header is an error; nothing is
// allocated from what it claims before the file's size (or, for a stream,
// its bytes) bears it out.
func openInput(name string, r io.Reader, size int64, s settings) (*input, error) {
	var ra io.ReaderAt
	if size >= 0 {
		var ok bool
		if ra, ok = r.(io.ReaderAt); !ok {
			return nil, errors.New("openInput: a sized input must be an io.ReaderAt")
		}
		r = io.NewSectionReader(ra, 0, size)
	}
	// The first 9 bytes tell the formats apart (a safetensors file's
	// header length is at most 10^8, and its JSON starts with '{'); a
	// stream gets them back.
	var head [9]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	r = io.MultiReader(bytes.NewReader(head[:n]), r)
	in := &input{name: name}
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: the file is empty", npy.ErrTruncated)
	case strings.HasPrefix("\x93NUMPY", string(head[:min(n, 6)])): // a short file's bytes may be the start of one
		err = in.openNPY(r, ra, size)
	case n >= 4 && string(head[:4]) == "L0FA":
		err = in.openState(r, ra, size, s)
	case n >= 4 && string(head[:4]) == "L0NM":
		return nil, errors.New("an L0Norm state (magic \"L0NM\"): it has no feature counts; l0 reads FeatureActivity states (\"L0FA\"), as -save writes them")
	case (n < 9 || head[8] == '{' || binary.LittleEndian.Uint64(head[:]) <= safetensors.MaxHeaderBytes) && s.sparse.on():
		err = in.openTopK(r, ra, size, s)
	case n < 9 || head[8] == '{' || binary.LittleEndian.Uint64(head[:]) <= safetensors.MaxHeaderBytes:
		err = in.openSafetensors(r, ra, size, s)
	default:
		return nil, fmt.Errorf("not an array l0 reads: the file starts with %q, the magic of neither a .npy file (\"\\x93NUMPY\") nor an l0 state (\"L0FA\"), nor a safetensors header", head[:n])
	}
	if err != nil {
		return nil, err
	}
	if in.format != "state" {
		if err := in.checkArray(s); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// openNPY reads a .npy header.
func (in *input) openNPY(r io.Reader, ra io.ReaderAt, size int64) error {
	rd, err := npy.Open(r, size)
	if err != nil {
		return err
	}
	h := rd.Header
	in.format, in.shape, in.dtype = "npy", h.Shape, h.Descr
	in.config.elem = npyElem(h.DType)
	in.describe = fmt.Sprintf("%s %s (%s), .npy format %d.%d", h.ShapeString(), h.DType.Name(), h.Descr, h.Major, h.Minor)
	in.dataBytes = h.DataBytes()
	in.layout = window.Layout{Offset: h.DataOffset, RowBytes: rd.RowBytes(), Rows: h.Shape[0], ElemSize: h.DType.Size()}
	if ra != nil {
		in.src = ra
	} else {
		in.stream = rd
	}
	return nil
}

// openSafetensors reads a safetensors header and picks the tensor to
// read: -key's, or the one tensor of rank 2 or 3 of a dtype l0 counts.
func (in *input) openSafetensors(r io.Reader, ra io.ReaderAt, size int64, s settings) error {
	h, err := safetensors.ReadHeader(r, size)
	if err != nil {
		return err
	}
	t, err := pickTensor(h, s.key, s.keyed || s.key != "")
	if err != nil {
		return err
	}
	e := safetensorsElem(t.DType)
	if e == elemInvalid || len(t.Shape) == 0 {
		// Only a -key can name such a tensor.
		return fmt.Errorf("%w: tensor %q is %s %s: l0 counts tensors of rank 2 or 3 of %s", safetensors.ErrUnsupported, t.Name, t.DType, t.ShapeString(), countedDTypes)
	}
	rowBytes := int64(e.size())
	for _, d := range t.Shape[1:] {
		rowBytes *= d // ReadHeader bounded the product, zeros aside
	}
	in.format, in.shape, in.dtype, in.tensor = "safetensors", t.Shape, t.DType.String(), t.Name
	in.config.elem = e
	in.describe = fmt.Sprintf("%q %s %s (%s), safetensors", t.Name, t.ShapeString(), e, t.DType)
	in.dataBytes = t.Bytes()
	in.layout = window.Layout{Offset: h.DataOffset() + t.Begin, RowBytes: rowBytes, Rows: t.Shape[0], ElemSize: e.size()}
	if ra != nil {
		in.src = ra
		return nil
	}
	rd, err := h.NewReader(r, t.Name)
	if err != nil {
		return err
	}
	in.stream = rd
	return nil
}

// countedDTypes lists the safetensors dtypes l0 counts.
const countedDTypes = "F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL"

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
		if (len(t.Shape) == 2 || len(t.Shape) == 3) && safetensorsElem(t.DType) != elemInvalid {
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
		if safetensorsElem(t.DType) == elemInvalid {
			b.WriteString(" (a dtype l0 does not count)")
		}
	}
	return b.String()
}

// maxStateBytes is the size of the largest state l0 reads: MaxCounters
// counts of 8 bytes, a header and a checksum.
const maxStateBytes = 44 + 8*int64(metric.MaxCounters)

// openState reads the header of a FeatureActivity state: its
// configuration from the documented layout (element type at byte 5,
// components at 8, features at 16, vectors at 32), which metric's
// ReadFrom checks again with the rest when it is counted; and the bounds
// an array takes (at most maxFeaturelessSlots components of no features).
// A file's state is read then, by the worker that counts it, straight into
// its counts; a stream's is read now, whole.
func (in *input) openState(r io.Reader, ra io.ReaderAt, size int64, s settings) error {
	if size > maxStateBytes {
		return fmt.Errorf("a state of %d bytes: larger than any l0 writes (%d counters at most)", size, int64(metric.MaxCounters))
	}
	var state []byte
	var err error
	if size >= 0 {
		// A file's state is read by the worker that counts it, into the
		// counts, a piece at a time (tally.load).
		state = make([]byte, min(size, 44))
		_, err = io.ReadFull(r, state)
		in.src, in.dataBytes = ra, size
	} else {
		// A stream's bytes must bear out its header before counts of its
		// size are made: it is read whole now.
		state, err = io.ReadAll(io.LimitReader(r, maxStateBytes+1))
		in.state, in.dataBytes = state, int64(len(state))
	}
	if err != nil && err != io.ErrUnexpectedEOF {
		return err
	}
	switch {
	case in.dataBytes > maxStateBytes:
		return fmt.Errorf("a state of more than %d bytes: larger than any l0 writes", maxStateBytes)
	case in.dataBytes < 44:
		return fmt.Errorf("%w: a state of %d bytes, shorter than any (44)", metric.ErrFormat, in.dataBytes)
	}
	e := elem(state[5])
	components := binary.LittleEndian.Uint64(state[8:])
	features := binary.LittleEndian.Uint64(state[16:])
	vectors := binary.LittleEndian.Uint64(state[32:])
	if !e.valid() || components > metric.MaxComponents || features > metric.MaxCounters || vectors > math.MaxInt64 {
		return fmt.Errorf("%w: element type %d, %d components, %d features, %d vectors: not a state l0 writes", metric.ErrFormat, state[5], components, features, vectors)
	}
	if features == 0 && components > maxFeaturelessSlots {
		// The bound of an array's: no bytes pay for these components.
		return fmt.Errorf("%w: a state of %d components of no features; l0 takes at most %d components without features", metric.ErrFormat, components, maxFeaturelessSlots)
	}
	// The counts the header calls for must be the bytes present, before a
	// metric of its size is made.
	slots := max(components, 1) * features // no overflow: 2^24 × 2^32
	if counts := in.dataBytes - 44; counts%8 != 0 || slots != uint64(counts/8) {
		return fmt.Errorf("%w: %d bytes of counts, the header (%d components × %d features) wants %d (truncated or corrupt)", metric.ErrFormat, counts, components, features, 8*slots)
	}
	in.format = "state"
	in.config = config{elem: e, components: int(components), features: int(features)}
	in.dtype = e.String()
	in.shape = []int64{int64(vectors), int64(features)}
	if components > 0 {
		in.shape = []int64{int64(vectors), int64(components), int64(features)}
	}
	in.describe = fmt.Sprintf("%s %s counts over %d vectors, l0 state (FeatureActivity)", shapeText(in.shape[1:]), e, vectors)
	if s.positions {
		return errors.New("-positions: a state holds no positions (its per-position L0 is not saved); merge it without -positions")
	}
	return nil
}

// shapeText writes dimensions as the report does: 2 components × 2048
// features, or 2048 features.
func shapeText(dims []int64) string {
	if len(dims) == 2 {
		return fmt.Sprintf("%d components × %d features", dims[0], dims[1])
	}
	return fmt.Sprintf("%d features", dims[0])
}

// maxFeaturelessSlots bounds the components (or positions) of an array
// whose vectors have no features. Its data is no bytes, whatever the
// shape, but its report is a few numbers per component; with at least one
// feature the data holds a byte per component per vector, and pays for
// them.
const maxFeaturelessSlots = 1 << 16

// checkArray checks the array is [batch, feature] or [batch, component,
// feature] (with -positions, [batch, position, feature]) with at least one
// vector and one component, sizes a metric can take, and the rule suits
// its dtype; and sets the configuration its counts take.
func (in *input) checkArray(s settings) error {
	shape, c := in.shape, &in.config
	shapeText := shapeOf(shape)
	switch in.format {
	case "npy":
		shapeText = npy.Header{Shape: shape}.ShapeString()
	case "topk":
		shapeText = fmt.Sprintf("%s (of the top-k %s)", shapeText, in.topk.index.ShapeString())
	}
	if len(shape) != 2 && len(shape) != 3 {
		return fmt.Errorf("the shape %s has rank %d; want [batch, feature] or [batch, component, feature]", shapeText, len(shape))
	}
	for _, d := range shape {
		if int64(int(d)) != d {
			return fmt.Errorf("the shape %s is too large for this machine (a dimension above %d)", shapeText, math.MaxInt)
		}
	}
	if in.layout.RowBytes > math.MaxInt-7 {
		return fmt.Errorf("the rows of the shape %s are too large for this machine", shapeText)
	}
	c.features = int(shape[len(shape)-1])
	slots := 1
	if len(shape) == 3 {
		slots = int(shape[1])
		what := "components"
		if s.positions {
			what = "positions"
		}
		switch {
		case slots == 0:
			return fmt.Errorf("the shape %s has no %s", shapeText, what)
		case slots > metric.MaxComponents:
			return fmt.Errorf("the shape %s has %d %s; l0 takes at most %d", shapeText, slots, what, metric.MaxComponents)
		case c.features == 0 && slots > maxFeaturelessSlots:
			return fmt.Errorf("the shape %s has %d %s of no features; l0 takes at most %d %s without features", shapeText, slots, what, maxFeaturelessSlots, what)
		}
	}
	switch {
	case s.positions && len(shape) != 3:
		return fmt.Errorf("-positions reads [batch, position, feature]; the shape %s has rank 2", shapeText)
	case s.positions && s.skip >= slots:
		return fmt.Errorf("-skip-positions %d leaves none of the %d positions of the shape %s", s.skip, slots, shapeText)
	case s.positions:
		c.positions, c.skip = slots-s.skip, s.skip
	case len(shape) == 3:
		c.components = slots
	}
	if c.features > metric.MaxCounters/max(c.components, 1) {
		return fmt.Errorf("the shape %s has more (component, feature) pairs than l0 counts, %d", shapeText, int64(metric.MaxCounters))
	}
	if _, ok := s.rule.Threshold(); ok && !c.elem.isFloat() {
		return fmt.Errorf("%s needs a float array, this one is %s (%s)", s.ruleFlag(), c.elem, in.dtype)
	}
	// Vectors of no features are valid (their L0 is 0, as the metric has
	// it); a batch of no vectors has no L0.
	if shape[0] == 0 {
		return fmt.Errorf("the shape %s has no vectors (batch size 0): its L0 is undefined", shapeText)
	}
	return nil
}
