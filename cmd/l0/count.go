package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/sparsekit/l0/internal/rows"
	"github.com/sparsekit/l0/internal/window"
)

// bufferBytes is the size of the buffer rows are read into with read(2),
// rounded down to whole rows (and up to one row), when rows are short.
// Every batch of 8 vectors or more costs the metric a pass over its
// counters (8 bytes per feature) to clear a scratch copy and another to add
// it, so a batch must be much larger than that; and the rows just read
// should still be in cache when the kernels count them. (A var, for the
// tests.)
var bufferBytes = 2 << 20

// Long rows are read inPlaceRows at a time, at most cacheBytes (at least a
// row): metric.FeatureActivity counts a batch of fewer than 8 vectors
// straight into its counters, with no scratch to clear and add, so a batch
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

// batchBytes returns the bytes of whole rows to read at once.
func batchBytes(rowBytes int64) int {
	if rowBytes*inPlaceRows >= inPlaceMinBytes {
		return int(min(inPlaceRows, max(1, cacheBytes/rowBytes)) * rowBytes)
	}
	return bufferBytes
}

// mapBytes is the size of a memory-mapped window, rounded as bufferBytes
// is: counted where the page cache holds it, then unmapped. (A var, for
// the tests.)
var mapBytes = 8 << 20

// mapping says whether files are counted in mapped windows where they can
// be (-mmap).
var mapping = false

// testHookWindow, when set, is called before each window is counted.
var testHookWindow func(*input)

// A counter is what one worker counts with: its reader of windows, its
// stream buffer, reused from job to job.
type counter struct {
	windows *window.Reader
	buf     []uint64 // a stream's rows; a top-k pair's indices
	values  []uint64 // a top-k pair's values
	wide    []uint64 // a top-k pair's indices widened
	p       *progress
}

func newCounter(p *progress) *counter {
	mapped := 0
	if mapping {
		mapped = mapBytes
	}
	return &counter{windows: window.NewReader(nil, bufferBytes, mapped), p: p}
}

// count counts rows [from, to) of the input (all of a stream or a state)
// into the tally get returns; get is called once the input's bytes bear
// out its shape, before the first rows are added.
func (c *counter) count(in *input, from, to int64, get func() (tally, error)) error {
	switch {
	case in.format == "state":
		t, err := get()
		if err != nil {
			return err
		}
		var r io.Reader
		if in.state != nil {
			r = bytes.NewReader(in.state) // a stream's, read whole
		} else {
			// openState checked the file's size against the header.
			r = &shrinkReader{r: io.NewSectionReader(in.src, 0, in.dataBytes), left: in.dataBytes}
		}
		err = t.load(r)
		collect(in.config) // a tally merged, and freed
		return err
	case in.topk != nil:
		return c.topK(in, from, to, get)
	case in.stream != nil:
		return c.stream(in, get)
	}
	mapped := 0
	if mapping {
		mapped = mapBytes
	}
	c.windows.SetBudget(batchBytes(in.layout.RowBytes), mapped)
	c.windows.Reset(in.src)
	var t tally
	return c.windows.Rows(in.layout, from, to, func(rows int64, data []byte) error {
		if t == nil {
			var err error
			if t, err = get(); err != nil {
				return err
			}
		}
		if testHookWindow != nil {
			testHookWindow(in)
		}
		if err := t.add(data, rows); err != nil {
			return err
		}
		c.p.add(rows * in.layout.RowBytes)
		return nil
	})
}

// stream reads a stream of unknown size in whole rows into the counter's
// buffer and counts each batch of rows.
//
// Nothing is sized by the shape before the data proves it: the first row
// is read, into a buffer that grows as its bytes arrive, before the tally's
// counters (8 bytes per feature and component) and the buffer of many rows
// are allocated. The Updates a stream takes are at most one per row (one
// per buffer of rows, all rows of no bytes in one), so the work follows the
// bytes too.
func (c *counter) stream(in *input, get func() (tally, error)) error {
	rd, rowBytes := in.stream, in.layout.RowBytes
	first, err := rd.ReadRow(c.buf)
	if err != nil {
		return err
	}
	c.buf = first
	t, err := get()
	if err != nil {
		return err
	}
	if err := t.add(rows.Bytes(first)[:rowBytes], 1); err != nil {
		return err
	}
	c.p.add(rowBytes)
	// Rows of no bytes all come in one ReadRows, whatever their number;
	// others as many as the buffer holds, at least one.
	batch := int64(1)
	if rowBytes > 0 {
		batch = max(1, min(int64(batchBytes(rowBytes))/rowBytes, rd.RowsLeft()))
	}
	if need := (int(batch*rowBytes) + 7) / 8; len(c.buf) < need {
		c.buf = make([]uint64, need)
	}
	for {
		n, err := rd.ReadRows(rows.Bytes(c.buf))
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := t.add(rows.Bytes(c.buf)[:n*rowBytes], n); err != nil {
			return err
		}
		c.p.add(n * rowBytes)
	}
}

// shrinkReader reads a file of a known size, calling its end before that
// size window.ErrChanged: the file shrank after its size was checked.
type shrinkReader struct {
	r    io.Reader
	left int64
}

func (s *shrinkReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.left -= int64(n)
	switch {
	case err == io.EOF && s.left > 0:
		return n, fmt.Errorf("%w: it ends %d bytes early", window.ErrChanged, s.left)
	case err != nil && err != io.EOF:
		return n, fmt.Errorf("%w: %v", window.ErrChanged, err)
	}
	return n, err
}
