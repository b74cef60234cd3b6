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
	threshold    float64 // count x > threshold ...
	hasThreshold bool    // ... when set; otherwise x != 0
	dense        float64 // a feature is dense above this density
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
}

// activity is the part of metric.FeatureActivity that does not depend on
// the element type.
type activity interface {
	Vectors() int64
	Dead() []int
	Dense(threshold float64) ([]int, error)
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
	if err := rep.checkShape(); err != nil {
		return nil, err
	}
	if s.hasThreshold && !rd.DType.IsFloat() {
		return nil, fmt.Errorf("-threshold needs a float array, this one is %s (%s)", rd.DType.Name(), rd.Descr)
	}
	progress.start(name, rd.DataBytes())
	defer progress.done()
	start := time.Now()
	var act activity
	switch rd.DType {
	case npy.Float16:
		act, err = countFloat[kernel.Float16](rep, rd, size >= 0, progress)
	case npy.Float32:
		act, err = countFloat[float32](rep, rd, size >= 0, progress)
	case npy.Float64:
		act, err = countFloat[float64](rep, rd, size >= 0, progress)
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

// checkShape checks the array is [batch, feature] or [batch, component,
// feature] with at least one vector and one component, sizes a metric can
// take.
func (rep *report) checkShape() error {
	shape := rep.header.Shape
	if len(shape) != 2 && len(shape) != 3 {
		return fmt.Errorf("the shape %s has rank %d; want [batch, feature] or [batch, component, feature]", rep.header.ShapeString(), len(shape))
	}
	for _, d := range shape {
		if int64(int(d)) != d {
			return fmt.Errorf("the shape %s is too large for this machine", rep.header.ShapeString())
		}
	}
	rowElements := rep.header.Elements() / max(shape[0], 1)
	if shape[0] > 0 && rowElements*int64(rep.header.DType.Size()) > math.MaxInt-7 {
		return fmt.Errorf("the rows of the shape %s are too large for this machine", rep.header.ShapeString())
	}
	rep.features = int(shape[len(shape)-1])
	if len(shape) == 3 {
		rep.components = int(shape[1])
		if rep.components == 0 {
			return fmt.Errorf("the shape %s has no components", rep.header.ShapeString())
		}
	}
	// Vectors of no features are valid (their L0 is 0, as the metric has
	// it); a batch of no vectors has no L0.
	if shape[0] == 0 {
		return fmt.Errorf("the shape %s has no vectors (batch size 0): its L0 is undefined", rep.header.ShapeString())
	}
	return nil
}

// summarize fills the report from the counted activity.
func (rep *report) summarize(act activity) error {
	var err error
	rep.vectors = act.Vectors()
	if rep.l0, err = act.L0(); err != nil {
		return err
	}
	if rep.histogram, err = act.Histogram(); err != nil {
		return err
	}
	dense, err := act.Dense(rep.settings.dense)
	if err != nil {
		return err
	}
	slots := max(rep.components, 1)
	rep.dead = perComponent(act.Dead(), slots, rep.features)
	rep.dense = perComponent(dense, slots, rep.features)
	return nil
}

// perComponent counts the feature indices (c*features + f) per component.
func perComponent(indices []int, slots, features int) []int {
	counts := make([]int, slots)
	for _, i := range indices {
		counts[i/features]++
	}
	return counts
}

func count[T kernel.Element](rep *report, rd *npy.Reader, sized bool, p *progress) (activity, error) {
	return stream(func() (*metric.FeatureActivity[T], error) {
		return metric.NewFeatureActivity[T](rep.components, rep.features)
	}, rep, rd, sized, p)
}

func countFloat[T kernel.Float](rep *report, rd *npy.Reader, sized bool, p *progress) (activity, error) {
	if !rep.settings.hasThreshold {
		return count[T](rep, rd, sized, p)
	}
	return stream(func() (*metric.FeatureActivity[T], error) {
		return metric.NewFeatureActivityAbove[T](rep.components, rep.features, rep.settings.threshold)
	}, rep, rd, sized, p)
}

// stream reads the data in whole rows into one reused buffer and counts
// each batch of rows with the activity newActivity returns. The buffer is
// words, so that it is aligned for every element type.
//
// Nothing is allocated from the shape before the data proves it: the
// size of a sized file was checked against its header by npy.Open, and
// otherwise the first row is read, into a buffer that grows as its bytes
// arrive, before the buffer of many rows and the activity's counters (8
// bytes per feature and component) are allocated.
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
		p.add(int64(rows * rowBytes))
		return nil
	}
	if !sized {
		if err := update(first, 1); err != nil {
			return nil, err
		}
	}
	rows := int64(1) // rows of no bytes all come in one ReadRows
	if rowBytes > 0 {
		rows = max(1, min(int64(bufferBytes/rowBytes), rd.RowsLeft()))
	}
	buf := make([]uint64, (int(rows)*rowBytes+7)/8)
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
