package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/report"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// FuzzAnalyze feeds arbitrary bytes to the header parser and the payload
// reader, as a file of known size and as a stream. Neither may panic; they
// must agree on whether the bytes are a readable array; and when they are,
// the report must match a plain count over the payload.
func FuzzAnalyze(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.npy"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4096 {
			continue // minimizing inputs this large stalls the fuzzer for long
		}
		f.Add(data, 0.5, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, threshold float64, hasThreshold bool) {
		s := settings{dense: 0.1}
		switch {
		case math.IsNaN(threshold) || !hasThreshold:
		case len(data)%2 == 0: // both rules, from the seeds on
			s.rule = metric.Above(threshold)
		default:
			s.rule = metric.AbsAbove(threshold)
		}
		s.tune = func(o *options) { o.bufferBytes = 64 } // many reads even of small files
		sized, errSized := analyze("fuzz", bytes.NewReader(data), int64(len(data)), s)
		streamed, errStreamed := analyze("fuzz", struct{ io.Reader }{bytes.NewReader(data)}, -1, s)
		if (errSized == nil) != (errStreamed == nil) {
			t.Fatalf("as a file: %v; as a stream: %v", errSized, errStreamed)
		}
		if errSized != nil {
			return
		}
		h, err := npy.ReadHeader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("accepted a header npy.ReadHeader rejects: %v", err)
		}
		want := countByHand(t, data[h.DataOffset:], h.Shape, input.NPYElem(h.DType), s)
		for _, rep := range []*report.Report{sized, streamed} {
			if rep.Vectors != h.Shape[0] || len(rep.L0) != len(want) {
				t.Fatalf("vectors %d, l0 %v; want %d, %v", rep.Vectors, rep.L0, h.Shape[0], want)
			}
			for c := range want {
				if rep.L0[c] != want[c] {
					t.Fatalf("l0 %v, counted by hand %v", rep.L0, want)
				}
			}
		}
	})
}

// countByHand returns the L0 per component of the payload of an array of
// the shape and element type, decoding each element on its own.
func countByHand(t *testing.T, payload []byte, shape []int64, e tally.Elem, s settings) []float64 {
	size := e.Size()
	elements := int64(1)
	for _, d := range shape {
		elements *= d
	}
	if int64(len(payload)) != elements*int64(size) {
		t.Fatalf("accepted %d bytes of payload for %d elements of %d bytes", len(payload), elements, size)
	}
	batch, features := shape[0], shape[len(shape)-1]
	slots := int64(1)
	if len(shape) == 3 {
		slots = shape[1]
	}
	counts := make([]int64, slots)
	for i := int64(0); i < int64(len(payload))/int64(size); i++ {
		b := payload[i*int64(size) : (i+1)*int64(size)]
		var bits uint64
		for k := size - 1; k >= 0; k-- {
			bits = bits<<8 | uint64(b[k])
		}
		if counts1(e, bits, s) {
			counts[i/features%slots]++
		}
	}
	l0 := make([]float64, slots)
	for c := range l0 {
		l0[c] = float64(counts[c]) / float64(batch)
	}
	return l0
}

// counts1 decides one element, from its little-endian bits.
func counts1(e tally.Elem, bits uint64, s settings) bool {
	var value float64
	threshold, thresholded := s.rule.Threshold()
	switch e {
	case tally.Float16:
		if !thresholded {
			return bits&0x7fff != 0
		}
		value = float16Value(uint16(bits))
	case tally.BFloat16:
		if !thresholded {
			return bits&0x7fff != 0
		}
		value = float64(math.Float32frombits(uint32(bits) << 16))
	case tally.Float32:
		if !thresholded {
			return bits&0x7fffffff != 0
		}
		value = float64(math.Float32frombits(uint32(bits)))
	case tally.Float64:
		if !thresholded {
			return bits&^(1<<63) != 0
		}
		value = math.Float64frombits(bits)
	default:
		return bits != 0
	}
	if s.rule.Abs() {
		value = math.Abs(value)
	}
	return value > threshold
}

// float16Value decodes an IEEE half-precision number exactly.
func float16Value(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}

// TestFloat16Value pins the hand decoder the fuzz oracle uses.
func TestFloat16Value(t *testing.T) {
	t.Parallel()
	for bits, want := range map[uint16]float64{0x3c00: 1, 0xc000: -2, 0x0001: math.Ldexp(1, -24), 0x7bff: 65504, 0x3800: 0.5, 0x8000: 0} {
		if got := float16Value(bits); got != want {
			t.Errorf("%#04x: %v, want %v", bits, got, want)
		}
	}
	if !math.IsNaN(float16Value(0x7e00)) || !math.IsInf(float16Value(0xfc00), -1) {
		t.Error("NaN or -Inf decoded wrong")
	}
}

// TestHostileShapes checks that a header claiming enormous rows costs no
// more memory than the stream holds: the streamed reader fails at the end
// of the data, having grown its buffer only as bytes arrived.
func TestHostileShapes(t *testing.T) {
	for _, shape := range [][]int64{{1, 1 << 40}, {2, 1 << 20, 1 << 20}, {1 << 40, 1 << 20}, {1, 1 << 31}, {3, 1 << 10, 1 << 21}} {
		data := append(npyHeader("<f4", shape...), make([]byte, 4096)...)
		var before, after runtimeMem
		before.read()
		_, err := analyze("hostile", struct{ io.Reader }{bytes.NewReader(data)}, -1, settings{dense: 0.1})
		after.read()
		// Truncated, or refused before reading: more counters than a metric
		// takes, a dimension larger than an int on a 32-bit machine.
		if !errors.Is(err, npy.ErrTruncated) && !strings.Contains(fmt.Sprint(err), "too large for this machine") &&
			!strings.Contains(fmt.Sprint(err), "more (component, feature) pairs than l0 counts") {
			t.Errorf("shape %v: %v, want truncated", shape, err)
		}
		if grew := after.total - before.total; grew > 1<<20 {
			t.Errorf("shape %v: allocated %d bytes for %d bytes of data", shape, grew, len(data))
		}
		_, err = analyze("hostile", bytes.NewReader(data), int64(len(data)), settings{dense: 0.1})
		if !errors.Is(err, npy.ErrTruncated) && !strings.Contains(fmt.Sprint(err), "too large for this machine") {
			t.Errorf("shape %v as a file: %v, want truncated", shape, err)
		}
	}
	// The little-endian length fields, checked by hand once.
	h := npyHeader("<f4", 1, 2)
	if binary.LittleEndian.Uint16(h[8:]) != uint16(len(h)-10) || len(h)%64 != 0 {
		t.Errorf("npyHeader: %q", h)
	}
}

// runtimeMem is a reading of the bytes allocated so far.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

// FuzzAnalyzeSafetensors feeds arbitrary bytes to l0 as FuzzAnalyze does,
// from safetensors seeds (and, as any bytes are, recognised by content):
// as a file of known size and as a stream, with or without -key x, a rule
// and -positions. Nothing may panic; both must agree on whether the bytes
// are a readable tensor; and when they are, the report must match a plain
// count over the tensor's bytes.
func FuzzAnalyzeSafetensors(f *testing.F) {
	var paths []string
	for _, pattern := range []string{filepath.Join(stDir, "*.safetensors"), filepath.Join(readerDir, "*", "*.safetensors")} {
		found, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		paths = append(paths, found...)
	}
	if len(paths) < 50 {
		f.Fatalf("%d seeds", len(paths))
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4096 {
			continue
		}
		f.Add(data, 0.5, false, false, uint8(0))
	}
	f.Add(stFile(f, safetensors.BFloat16, []int64{3, 4, 2}, make([]byte, 48)), 0.0, true, true, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, threshold float64, hasThreshold, keyX bool, positions uint8) {
		s := settings{dense: 0.1}
		switch {
		case math.IsNaN(threshold) || !hasThreshold:
		case len(data)%2 == 0:
			s.rule = metric.Above(threshold)
		default:
			s.rule = metric.AbsAbove(threshold)
		}
		if keyX {
			s.key = "x"
		}
		if positions > 0 {
			s.positions, s.skip = true, int(positions%4)
		}
		s.tune = tiny(64, 64, 64)
		sized, errSized := analyze("fuzz", bytes.NewReader(data), int64(len(data)), s)
		streamed, errStreamed := analyze("fuzz", asStream(data), -1, s)
		if (errSized == nil) != (errStreamed == nil) {
			t.Fatalf("as a file: %v; as a stream: %v", errSized, errStreamed)
		}
		if errSized != nil {
			return
		}
		if sized.Format != "safetensors" {
			return // a .npy or a state: FuzzAnalyze's and the metric's
		}
		h, err := safetensors.ReadHeader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("accepted a file safetensors.ReadHeader rejects: %v", err)
		}
		tensor, ok := h.Lookup(sized.Tensor)
		if !ok || sized.Tensor != streamed.Tensor {
			t.Fatalf("read tensor %q (streamed %q), not in the file", sized.Tensor, streamed.Tensor)
		}
		payload := data[h.DataOffset()+tensor.Begin : h.DataOffset()+tensor.End]
		e := input.SafetensorsElem(tensor.DType)
		want := countByHand(t, payload, tensor.Shape, e, s)
		rows := tensor.Shape[0]
		if s.positions {
			want, rows = positionsByHand(t, payload, tensor.Shape, e, s)
		}
		for _, rep := range []*report.Report{sized, streamed} {
			if rep.Rows != rows || len(rep.L0) != len(want) && !s.positions {
				t.Fatalf("rows %d, l0 %v; want %d, %v", rep.Rows, rep.L0, rows, want)
			}
			got := rep.L0
			if s.positions {
				got = rep.L0ByPosition
			}
			for c := range want {
				if math.Abs(got[c]-want[c]) > 1e-12*max(1, math.Abs(want[c])) {
					t.Fatalf("l0 %v, counted by hand %v", got, want)
				}
			}
		}
	})
}

// positionsByHand returns the L0 per position counted of a [batch,
// position, feature] payload, the first s.skip positions left out, and the
// batch.
func positionsByHand(t *testing.T, payload []byte, shape []int64, e tally.Elem, s settings) ([]float64, int64) {
	batch, positions, features := shape[0], shape[1], shape[2]
	size := int64(e.Size())
	l0 := make([]float64, positions-int64(s.skip))
	if len(payload) == 0 {
		return l0, batch // rows of no features, maybe 2^62 of them
	}
	for r := range batch {
		for p := int64(s.skip); p < positions; p++ {
			for f := range features {
				at := ((r*positions+p)*features + f) * size
				var bits uint64
				for k := size - 1; k >= 0; k-- {
					bits = bits<<8 | uint64(payload[at+k])
				}
				if counts1(e, bits, s) {
					l0[p-int64(s.skip)]++
				}
			}
		}
	}
	for i := range l0 {
		l0[i] /= float64(batch)
	}
	return l0, batch
}

// FuzzAnalyzeTopK feeds arbitrary bytes to l0 as a top-k file (-sparse),
// from the top-k fixtures and a small pair of each index dtype: the
// file's first tensor of an integer dtype is the indices, its first of a
// float dtype the values (unless noValues), of features+1 features, by a
// rule. Nothing may panic; a
// stream of a pair is refused; an accepted pair's report must match a
// count by hand of its entries, with no index outside [0, D); and a bad
// index error must have one.
func FuzzAnalyzeTopK(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(sparseDir, "*.safetensors"))
	if err != nil || len(paths) < 20 {
		f.Fatalf("%d seeds: %v", len(paths), err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= 4096 {
			f.Add(data, uint16(63), false, 0.5, false)
			f.Add(data, uint16(99), true, 0.0, false)
		}
	}
	for _, d := range []safetensors.DType{safetensors.Int8, safetensors.Int16, safetensors.Int32, safetensors.Int64,
		safetensors.Uint8, safetensors.Uint16, safetensors.Uint32, safetensors.Uint64} {
		index := make([]byte, 3*2*2*d.Size())
		for i := 0; i < len(index); i += d.Size() {
			index[i] = byte(i * 7 % 9)
		}
		values := bytes.Repeat([]byte{0, 0x3f, 0, 0, 0x80, 0xbf}, 4)
		f.Add(topKFile(f, d, []int64{3, 2, 2}, index, safetensors.BFloat16, values), uint16(8), false, 0.0, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, features uint16, noValues bool, threshold float64, hasThreshold bool) {
		s := settings{dense: 0.1, sparse: keys("i", "v"), features: int(features) + 1}
		h, headerErr := safetensors.ReadHeader(bytes.NewReader(data), int64(len(data)))
		var idx, values *safetensors.Tensor // the file's first integer and float tensors
		if headerErr == nil {
			for i, t := range h.Tensors {
				switch {
				case idx == nil && input.IsIndexDType(t.DType):
					idx = &h.Tensors[i]
				case values == nil && t.DType.IsFloat() && !noValues:
					values = &h.Tensors[i]
				}
			}
		}
		if idx != nil {
			s.sparse = keys(idx.Name, "")
			if values != nil {
				s.sparse.Values = values.Name
			}
		}
		switch {
		case !hasThreshold || math.IsNaN(threshold) || s.sparse.Values == "":
		case len(data)%2 == 0:
			s.rule = metric.Above(threshold)
		default:
			s.rule = metric.AbsAbove(threshold)
		}
		s.tune = tiny(64, 64, 64)
		rep, err := analyze("fuzz", bytes.NewReader(data), int64(len(data)), s)
		if err == nil && rep.Format != "topk" || idx == nil {
			return // not a pair: a .npy, a state, or refused by the header
		}
		if _, errStreamed := analyze("fuzz", asStream(data), -1, s); errStreamed == nil {
			t.Fatal("a top-k pair read from a stream")
		}
		if err != nil && !errors.Is(err, kernel.ErrIndex) {
			return // refused before counting
		}
		l0, dead, outside := topKByHand(data, h, *idx, values, s)
		if (err != nil) != outside {
			t.Fatalf("an index outside [0, %d): %v; error %v", s.features, outside, err)
		}
		if err != nil {
			return
		}
		for c := range l0 {
			if rep.L0[c] != l0[c] || rep.Dead[c] != dead[c] {
				t.Fatalf("l0 %v, dead %v; by hand %v, %v", rep.L0, rep.Dead, l0, dead)
			}
		}
	})
}

// topKByHand counts a top-k pair entry by entry: the L0 and dead features
// per component, and whether an index is outside [0, features).
func topKByHand(data []byte, h *safetensors.Header, idx safetensors.Tensor, values *safetensors.Tensor, s settings) (l0 []float64, dead []int, outside bool) {
	base := h.DataOffset()
	size := int64(idx.DType.Size())
	batch, k := idx.Shape[0], idx.Shape[len(idx.Shape)-1]
	slots := int64(1)
	if len(idx.Shape) == 3 {
		slots = idx.Shape[1]
	}
	counted := make([]int64, slots)
	fired := make([]int64, slots*int64(s.features))
	for i := int64(0); i < idx.Bytes()/max(size, 1); i++ {
		b := data[base+idx.Begin+i*size : base+idx.Begin+(i+1)*size]
		var bits uint64
		for j := size - 1; j >= 0; j-- {
			bits = bits<<8 | uint64(b[j])
		}
		signed := idx.DType == safetensors.Int8 || idx.DType == safetensors.Int16 || idx.DType == safetensors.Int32 || idx.DType == safetensors.Int64
		if signed && size < 8 && bits>>(8*size-1)&1 != 0 {
			bits |= ^uint64(0) << (8 * size) // sign-extend
		}
		if signed && int64(bits) < 0 || bits >= uint64(s.features) {
			outside = true
			continue
		}
		if values != nil {
			e := input.SafetensorsElem(values.DType)
			vs := int64(e.Size())
			v := data[base+values.Begin+i*vs : base+values.Begin+(i+1)*vs]
			var vbits uint64
			for j := vs - 1; j >= 0; j-- {
				vbits = vbits<<8 | uint64(v[j])
			}
			if !counts1(e, vbits, s) {
				continue
			}
		}
		c := i / k % slots
		counted[c]++
		fired[c*int64(s.features)+int64(bits)]++
	}
	l0, dead = make([]float64, slots), make([]int, slots)
	for c := range slots {
		l0[c] = float64(counted[c]) / float64(batch)
		for _, n := range fired[c*int64(s.features) : (c+1)*int64(s.features)] {
			if n == 0 {
				dead[c]++
			}
		}
	}
	return l0, dead, outside
}

// FuzzAnalyzeState feeds arbitrary bytes to l0 as a state ("L0FA" is put
// in front of bytes that lack it, and each input is tried as it is and with
// its checksum repaired, to reach the checks behind it), as a file of known
// size and as a stream, counting by the rule its header names. Nothing
// may panic; both must agree; an accepted state's report must be its
// counts' (vectors, L0 per component, dead features), decoded by hand; an
// error is one line; and the memory is bounded by the bytes given, never
// the sizes the header claims. A long campaign:
//
//	go test -run '^$' -fuzz '^FuzzAnalyzeState$' -fuzztime 30m -fuzzminimizetime 0 ./cmd/l0/
func FuzzAnalyzeState(f *testing.F) {
	add := func(m interface{ MarshalBinary() ([]byte, error) }) {
		b, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-5])
	}
	a, _ := metric.NewFeatureActivity[float32](2, 3, metric.Above(0.25))
	_ = a.Update([]float32{1, 0, 0.5, 0, 0.25, -1, 2, 2, 2, 0, 0, 0}, 2, 2, 3)
	add(a)
	b, _ := metric.NewFeatureActivity[uint8](0, 5)
	_ = b.Update([]uint8{1, 0, 3, 0, 1}, 1, 5)
	add(b)
	empty, _ := metric.NewFeatureActivity[kernel.BFloat16](4, 0, metric.AbsAbove(1e-5))
	add(empty)
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte("L0FA")) {
			data = append([]byte("L0FA"), data...)
		}
		for _, input := range [][]byte{data, rechecksum(data)} {
			fuzzState(t, input)
		}
	})
}

// fuzzState checks one input of FuzzAnalyzeState.
func fuzzState(t *testing.T, data []byte) {
	s := settings{dense: 0.1}
	if len(data) >= 40 {
		th := math.Float64frombits(binary.LittleEndian.Uint64(data[24:]))
		switch {
		case math.IsNaN(th):
		case data[6] == 1:
			s.rule = metric.Above(th)
		case data[6] == 3:
			s.rule = metric.AbsAbove(th)
		}
	}
	var sized, streamed *report.Report
	var errSized, errStreamed error
	grew := allocatedBy(func() {
		sized, errSized = analyze("fuzz", bytes.NewReader(data), int64(len(data)), s)
		streamed, errStreamed = analyze("fuzz", struct{ io.Reader }{bytes.NewReader(data)}, -1, s)
	})
	if limit := 16*uint64(len(data)) + 8<<20; grew > limit {
		t.Fatalf("a state of %d bytes allocated %d", len(data), grew)
	}
	if (errSized == nil) != (errStreamed == nil) {
		t.Fatalf("as a file: %v; as a stream: %v", errSized, errStreamed)
	}
	if errSized != nil {
		if strings.Contains(errSized.Error(), "\n") || strings.Contains(errStreamed.Error(), "\n") {
			t.Fatalf("a multi-line error: %q, %q", errSized, errStreamed)
		}
		return
	}
	components := int(binary.LittleEndian.Uint64(data[8:]))
	features := int(binary.LittleEndian.Uint64(data[16:]))
	vectors := int64(binary.LittleEndian.Uint64(data[32:]))
	slots := max(components, 1)
	l0 := make([]float64, slots)
	dead := 0
	for c := range slots {
		var hi, lo uint64
		for f := range features {
			v := binary.LittleEndian.Uint64(data[40+8*(c*features+f):])
			if v == 0 {
				dead++
			}
			var carry uint64
			lo, carry = bits.Add64(lo, v, 0)
			hi += carry
		}
		l0[c] = (float64(hi)*(1<<64) + float64(lo)) / float64(vectors)
	}
	for _, rep := range []*report.Report{sized, streamed} {
		if rep.Vectors != vectors || rep.Config.Components != components || rep.Config.Features != features {
			t.Fatalf("%d vectors of %d × %d; the header says %d of %d × %d", rep.Vectors, rep.Config.Components, rep.Config.Features, vectors, components, features)
		}
		if vectors == 0 {
			if rep.L0 != nil {
				t.Fatalf("an L0 of no vectors: %v", rep.L0)
			}
			continue
		}
		if len(rep.L0) != slots || rep.Histogram.Dead != dead {
			t.Fatalf("l0 %v, %d dead; by hand %v, %d dead", rep.L0, rep.Histogram.Dead, l0, dead)
		}
		for c := range l0 {
			if rep.L0[c] != l0[c] {
				t.Fatalf("l0 %v; by hand %v", rep.L0, l0)
			}
		}
	}
}
