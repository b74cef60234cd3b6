package input

import (
	"errors"
	"io"

	"github.com/sparsekit/l0/internal/rows"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/internal/window"
)

// The sizes a Worker reads in, by default.
const (
	// DefaultBufferBytes is the size of the buffer rows are read into with
	// read(2), rounded down to whole rows (and up to one row), when rows
	// are short. Every batch of 8 vectors or more costs the metric a pass
	// over its counters (8 bytes per feature) to clear a scratch copy and
	// another to add it, so a batch must be much larger than that; and the
	// rows just read should still be in cache when the kernels count them.
	DefaultBufferBytes = 2 << 20
	// DefaultMapBytes is the size of a memory-mapped window (-mmap),
	// rounded as the buffer is: counted where the page cache holds it,
	// then unmapped.
	DefaultMapBytes = 8 << 20
)

// Long rows are read inPlaceRows at a time, at most cacheBytes (at least a
// row): metric.FeatureActivity counts a batch of fewer than 8 vectors
// straight into its counters (its byte-wide pending counters, after its
// first batch), with no scratch to clear and add, so a batch
// of 7 long rows costs nothing but the count; and 7 rows of 64 KiB stay in
// a core's L2 cache between the copy and the count. On a 1 GiB [16384,
// 16384] float32 file, batches of 7 rows (448 KiB) took 20% less CPU than
// 2 MiB ones, and less than 0.25, 1 or 4 MiB. Rows are long when 7 of them
// are inPlaceMinBytes or more: shorter batches would spend more on the
// calls than the scratch costs.
const (
	inPlaceRows     = 7
	inPlaceMinBytes = 64 << 10
	cacheBytes      = 512 << 10
)

// ReadConfig is how a Worker reads rows.
type ReadConfig struct {
	BufferBytes int // the read(2) buffer of short rows (0: DefaultBufferBytes)
	MapBytes    int // a mapped window where files can be mapped; 0: read(2) only
	// Progress, if set, is told the bytes of rows counted.
	Progress func(n int64)
	// BeforeBatch, if set, is called before each batch of rows read from
	// a file is counted (the tests change the file there).
	BeforeBatch func(*Input)
	// SinceFired: the counts made outside a tally (a delphi cache's) give
	// each feature's vectors since it fired too (tally.CountsAdder).
	SinceFired bool
}

// A Worker is what one goroutine counts with: its reader of windows and
// its buffers, reused from input to input.
type Worker struct {
	c       ReadConfig
	windows *window.Reader
	buf     []uint64 // a stream's rows; a top-k pair's indices
	values  []uint64 // a top-k pair's values
	wide    []uint64 // a top-k pair's indices widened
	tokens  []uint64 // the token ids of a batch (-exclude-tokens)
	keep    []bool   // their keep mask

	delphi delphiScratch // a delphi cache's counts of a range
}

// NewWorker returns a Worker that reads as c says.
func NewWorker(c ReadConfig) *Worker {
	if c.BufferBytes <= 0 {
		c.BufferBytes = DefaultBufferBytes
	}
	return &Worker{c: c, windows: window.NewReader(nil, c.BufferBytes, c.MapBytes)}
}

// batchBytes returns the bytes of whole rows to read at once.
func (w *Worker) batchBytes(rowBytes int64) int {
	if rowBytes*inPlaceRows >= inPlaceMinBytes {
		return int(min(inPlaceRows, max(1, cacheBytes/rowBytes)) * rowBytes)
	}
	return w.c.BufferBytes
}

func (w *Worker) read(n int64) {
	if w.c.Progress != nil {
		w.c.Progress(n)
	}
}

func (w *Worker) beforeBatch(in *Input) {
	if w.c.BeforeBatch != nil {
		w.c.BeforeBatch(in)
	}
}

// denseRows are an array's rows in a file of known size (or in memory),
// read at offsets: a window of whole rows at a time, read(2) into the
// worker's buffer or mapped.
type denseRows struct {
	in     *Input
	src    io.ReaderAt
	layout window.Layout
}

func (d *denseRows) span() (int64, int64, bool) { return d.layout.Rows, d.layout.RowBytes, true }

func (d *denseRows) count(w *Worker, from, to int64, get func() (tally.Tally, error)) error {
	w.windows.SetBudget(w.batchBytes(d.layout.RowBytes), w.c.MapBytes)
	w.windows.Reset(d.src)
	var t tally.Tally
	row := from
	return w.windows.Rows(d.layout, from, to, func(n int64, data []byte) error {
		if t == nil {
			var err error
			if t, err = get(); err != nil {
				return err
			}
		}
		w.beforeBatch(d.in)
		if err := d.in.add(w, t, data, row, n); err != nil {
			return err
		}
		row += n
		w.read(n * d.layout.RowBytes)
		return nil
	})
}

// add counts the n rows from row on, their bytes data, into t: masked by
// their tokens' ids with -exclude-tokens.
func (in *Input) add(w *Worker, t tally.Tally, data []byte, row, n int64) error {
	if in.tokens == nil {
		return t.Add(data, n)
	}
	keep, err := in.tokens.keep(w, row, n)
	if err != nil {
		return err
	}
	return t.AddMasked(data, n, keep)
}

// rowStream is the sequential row reader of a stream of unknown size:
// npy.Reader or safetensors.Reader.
type rowStream interface {
	ReadRow(buf []uint64) ([]uint64, error)
	ReadRows(p []byte) (int64, error)
	RowsLeft() int64
	RowBytes() int64
}

// streamRows are an array's rows in a stream of unknown size, read in
// order, all by one worker.
type streamRows struct {
	in *Input
	rd rowStream
}

func (s *streamRows) span() (int64, int64, bool) { return s.rd.RowsLeft(), s.rd.RowBytes(), false }

// count reads the stream in whole rows into the worker's buffer and counts
// each batch of rows.
//
// Nothing is sized by the shape before the data proves it: the first row
// is read, into a buffer that grows as its bytes arrive, before the tally's
// counters (8 bytes per feature and component) and the buffer of many rows
// are allocated. The Updates a stream takes are at most one per row (one
// per buffer of rows, all rows of no bytes in one), so the work follows the
// bytes too.
func (s *streamRows) count(w *Worker, _, _ int64, get func() (tally.Tally, error)) error {
	rd, rowBytes := s.rd, s.rd.RowBytes()
	first, err := rd.ReadRow(w.buf)
	if err != nil {
		return err
	}
	w.buf = first
	t, err := get()
	if err != nil {
		return err
	}
	if err := t.Add(rows.Bytes(first)[:rowBytes], 1); err != nil {
		return err
	}
	w.read(rowBytes)
	// Rows of no bytes all come in one ReadRows, whatever their number;
	// others as many as the buffer holds, at least one.
	batch := int64(1)
	if rowBytes > 0 {
		batch = max(1, min(int64(w.batchBytes(rowBytes))/rowBytes, rd.RowsLeft()))
	}
	w.buf = rows.Grow(w.buf, batch*rowBytes)
	for {
		n, err := rd.ReadRows(rows.Bytes(w.buf))
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := t.Add(rows.Bytes(w.buf)[:n*rowBytes], n); err != nil {
			return err
		}
		w.read(n * rowBytes)
	}
}
