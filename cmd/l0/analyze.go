package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unsafe"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// bufferBytes is the size of the buffer the data is read into, rounded
// down to whole rows (and up to one row). Every batch costs the metric a
// pass over its counters (8 bytes per feature), so a batch must be much
// larger than that; and the rows just read should still be in cache when
// the kernels count them. 2 MiB measured best among 0.5 to 8 MiB on a 1 GiB
// [16384, 16384] float32 file. Reading ahead on a second goroutine was
// faster by 5% on an idle machine and slower by 15% on a busy one, so the
// reading and counting alternate on one. (A var, for the tests.)
var bufferBytes = 2 << 20

// settings are the options that change what is counted.
type settings struct {
	rule  metric.Rule // x != 0, x > t or |x| > t
	dense float64     // a feature is dense above this density
}

// report is what l0 says about one array.
type report struct {
	name       string
	header     npy.Header
	components int // 0 for a [batch, feature] array
	features   int
	settings   settings
	vectors    int64
	l0         []float64 // per component; one value without components
	dead       []int     // dead features per component (one entry without)
	dense      []int     // dense features per component
	histogram  metric.Histogram
	level      kernel.Level
	elapsed    time.Duration
	batches    int // the Updates the counting took, which the bytes bound, not the shape
}

// activity is the part of metric.FeatureActivity that does not depend on
// the element type.
type activity interface {
	Vectors() int64
	Counts() []uint64
	Histogram() (metric.Histogram, error)
	L0() ([]float64, error)
}

// analyze reads a .npy file from r (size bytes from the magic on, or -1 if
// unknown) and computes its report. Every problem with the file is an
// error; nothing in the file can make it panic or allocate much more than
// the file holds.
func analyze(name string, r io.Reader, size int64, s settings, progress *progress) (*report, error) {
	rd, err := npy.Open(r, size)
	if err != nil {
		return nil, err
	}
	rep := &report{name: name, header: rd.Header, settings: s, level: kernel.Active()}
	if err := rep.checkShape(rd.RowBytes()); err != nil {
		return nil, err
	}
	if _, ok := s.rule.Threshold(); ok && !rd.DType.IsFloat() {
		return nil, fmt.Errorf("%s needs a float array, this one is %s (%s)", s.ruleFlag(), rd.DType.Name(), rd.Descr)
	}
	progress.start(name, rd.DataBytes())
	defer progress.done()
	start := time.Now()
	var act activity
	switch rd.DType {
	case npy.Float16:
		act, err = count[kernel.Float16](rep, rd, size >= 0, progress)
	case npy.Float32:
		act, err = count[float32](rep, rd, size >= 0, progress)
	case npy.Float64:
		act, err = count[float64](rep, rd, size >= 0, progress)
	case npy.Int8:
		act, err = count[int8](rep, rd, size >= 0, progress)
	case npy.Int16:
		act, err = count[int16](rep, rd, size >= 0, progress)
	case npy.Int32:
		act, err = count[int32](rep, rd, size >= 0, progress)
	case npy.Int64:
		act, err = count[int64](rep, rd, size >= 0, progress)
	case npy.Uint8, npy.Bool:
		act, err = count[uint8](rep, rd, size >= 0, progress)
	case npy.Uint16:
		act, err = count[uint16](rep, rd, size >= 0, progress)
	case npy.Uint32:
		act, err = count[uint32](rep, rd, size >= 0, progress)
	case npy.Uint64:
		act, err = count[uint64](rep, rd, size >= 0, progress)
	default:
		err = fmt.Errorf("dtype %s has no counter", rd.DType)
	}
	if err != nil {
		return nil, err
	}
	rep.elapsed = time.Since(start)
	return rep, rep.summarize(act)
}

// maxFeaturelessComponents bounds the components of an array whose
// vectors have no features. Its data is no bytes, whatever the shape, but
// its report is a few numbers per component; with at least one feature the
// data holds a byte per component per vector, and pays for them.
const maxFeaturelessComponents = 1 << 16

// checkShape checks the array is [batch, feature] or [batch, component,
// feature] with at least one vector and one component, sizes a metric can
// take.
func (rep *report) checkShape(rowBytes int64) error {
	shape := rep.header.Shape
	if len(shape) != 2 && len(shape) != 3 {
		return fmt.Errorf("the shape %s has rank %d; want [batch, feature] or [batch, component, feature]", rep.header.ShapeString(), len(shape))
	}
	if rowBytes > math.MaxInt-7 {
		return fmt.Errorf("the rows of the shape %s are too large for this machine", rep.header.ShapeString())
	}
	rep.features = int(shape[len(shape)-1]) // an int: npy.Open checked
	if len(shape) == 3 {
		rep.components = int(shape[1])
		switch {
		case rep.components == 0:
			return fmt.Errorf("the shape %s has no components", rep.header.ShapeString())
		case rep.components > metric.MaxComponents:
			return fmt.Errorf("the shape %s has %d components; l0 takes at most %d", rep.header.ShapeString(), rep.components, metric.MaxComponents)
		case rep.features == 0 && rep.components > maxFeaturelessComponents:
			return fmt.Errorf("the shape %s has %d components of no features; l0 takes at most %d components without features", rep.header.ShapeString(), rep.components, maxFeaturelessComponents)
		}
	}
	if rep.features > metric.MaxCounters/max(rep.components, 1) {
		return fmt.Errorf("the shape %s has more (component, feature) pairs than l0 counts, %d", rep.header.ShapeString(), int64(metric.MaxCounters))
	}
	// Vectors of no features are valid (their L0 is 0, as the metric has
	// it); a batch of no vectors has no L0.
	if shape[0] == 0 {
		return fmt.Errorf("the shape %s has no vectors (batch size 0): its L0 is undefined", rep.header.ShapeString())
	}
	return nil
}

// summarize fills the report from the counted activity: its memory is the
// report's own, a copy of the counts and a few numbers per component.
func (rep *report) summarize(act activity) error {
	var err error
	rep.vectors = act.Vectors()
	if rep.l0, err = act.L0(); err != nil {
		return err
	}
	if rep.histogram, err = act.Histogram(); err != nil {
		return err
	}
	slots := max(rep.components, 1)
	rep.dead, rep.dense = make([]int, slots), make([]int, slots)
	vectors := float64(rep.vectors)
	for i, c := range act.Counts() {
		switch {
		case c == 0:
			rep.dead[i/rep.features]++
		case float64(c)/vectors > rep.settings.dense: // as metric's Dense decides
			rep.dense[i/rep.features]++
		}
	}
	return nil
}

func count[T kernel.Element](rep *report, rd *npy.Reader, sized bool, p *progress) (activity, error) {
	return stream(func() (*metric.FeatureActivity[T], error) {
		return metric.NewFeatureActivity[T](rep.components, rep.features, rep.settings.rule)
	}, rep, rd, sized, p)
}

// ruleFlag names the flag that set the rule of counting.
func (s settings) ruleFlag() string {
	if s.rule.Abs() {
		return "-abs-threshold"
	}
	return "-threshold"
}

// stream reads the data in whole rows into one reused buffer and counts
// each batch of rows with the activity newActivity returns. The buffer is
// words, so that it is aligned for every element type.
//
// Nothing is allocated from the shape before the data proves it: the
// size of a sized file was checked against its header by npy.Open, and
// otherwise the first row is read, into a buffer that grows as its bytes
// arrive, before the buffer of many rows and the activity's counters (8
// bytes per feature and component) are allocated. The Updates a file takes
// are at most one per row (one per buffer of rows, all rows of no bytes in
// one), so the work follows the bytes too.
func stream[T kernel.Element](newActivity func() (*metric.FeatureActivity[T], error), rep *report, rd *npy.Reader, sized bool, p *progress) (activity, error) {
	rowBytes := int(rd.RowBytes())
	rowElements := rowBytes / rd.DType.Size()
	shape := []int{0, rep.features}
	if rep.components > 0 {
		shape = []int{0, rep.components, rep.features}
	}
	var first []uint64 // the first row, read before anything is allocated: nil for rows of no bytes
	if !sized {
		var err error
		if first, err = rd.ReadRow(nil); err != nil {
			return nil, err
		}
	}
	act, err := newActivity()
	if err != nil {
		return nil, err
	}
	update := func(words []uint64, rows int) error {
		shape[0] = rows
		if err := act.Update(asElements[T](words, rows*rowElements), shape...); err != nil {
			return err
		}
		rep.batches++
		p.add(int64(rows) * int64(rowBytes))
		return nil
	}
	if !sized {
		if err := update(first, 1); err != nil {
			return nil, err
		}
	}
	// Rows of no bytes all come in one ReadRows, whatever their number;
	// others as many as the buffer holds, at least one. A buffer of one row
	// is the first row's, when it was read.
	rows := int64(1)
	if rowBytes > 0 {
		rows = max(1, min(int64(bufferBytes/rowBytes), rd.RowsLeft()))
	}
	buf := first
	if need := (int(rows)*rowBytes + 7) / 8; len(buf) < need {
		buf = make([]uint64, need)
	}
	for {
		n, err := rd.ReadRows(asBytes(buf))
		if errors.Is(err, io.EOF) {
			return act, nil
		}
		if err != nil {
			return nil, err
		}
		if err := update(buf, n); err != nil {
			return nil, err
		}
	}
}

// asBytes reinterprets words as bytes.
func asBytes(words []uint64) []byte {
	if len(words) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))
}

// asElements reinterprets the first n elements of type T held in words.
func asElements[T kernel.Element](words []uint64, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&words[0])), n)
}
