package input

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/internal/window"
	"github.com/sparsekit/l0/metric"
)

// maxStateBytes is the size of the largest state l0 reads: MaxCounters
// counts of 8 bytes, a header and a checksum.
const maxStateBytes = 44 + 16*int64(metric.MaxCounters) // version 2: counts and since-fired

// openState reads the header of a FeatureActivity state: its
// configuration from the documented layout (element type at byte 5,
// components at 8, features at 16, vectors at 32), which metric's
// ReadFrom checks again with the rest when it is counted; and the bounds
// an array takes (at most MaxFeaturelessSlots components of no features).
// A file's state is read then, by the worker that counts it, straight into
// its counts; a stream's is read now, whole.
func (in *Input) openState(r io.Reader, ra io.ReaderAt, size int64, o Options) error {
	if size > maxStateBytes {
		return fmt.Errorf("a state of %d bytes: larger than any l0 writes (%d counters at most)", size, int64(metric.MaxCounters))
	}
	var head []byte
	var err error
	rows := &stateRows{in: in}
	if size >= 0 {
		// A file's state is read by the worker that counts it, into the
		// counts, a piece at a time (tally.Load).
		head = make([]byte, min(size, 44))
		_, err = io.ReadFull(r, head)
		rows.src, in.DataBytes = ra, size
	} else {
		// A stream's bytes must bear out its header before counts of its
		// size are made: it is read whole now.
		head, err = io.ReadAll(io.LimitReader(r, maxStateBytes+1))
		rows.whole, in.DataBytes = head, int64(len(head))
	}
	if err != nil && err != io.ErrUnexpectedEOF {
		return err
	}
	switch {
	case in.DataBytes > maxStateBytes:
		return fmt.Errorf("a state of more than %d bytes: larger than any l0 writes", maxStateBytes)
	case in.DataBytes < 44:
		return fmt.Errorf("%w: a state of %d bytes, shorter than any (44)", metric.ErrFormat, in.DataBytes)
	}
	e := tally.Elem(head[5])
	components := binary.LittleEndian.Uint64(head[8:])
	features := binary.LittleEndian.Uint64(head[16:])
	vectors := binary.LittleEndian.Uint64(head[32:])
	if !e.Valid() || components > metric.MaxComponents || features > metric.MaxCounters || vectors > math.MaxInt64 {
		return fmt.Errorf("%w: element type %d, %d components, %d features, %d vectors: not a state l0 writes", metric.ErrFormat, head[5], components, features, vectors)
	}
	if features == 0 && components > MaxFeaturelessSlots {
		// The bound of an array's: no bytes pay for these components.
		return fmt.Errorf("%w: a state of %d components of no features; l0 takes at most %d components without features", metric.ErrFormat, components, MaxFeaturelessSlots)
	}
	// The counts the header calls for must be the bytes present, before a
	// metric of its size is made.
	slots := max(components, 1) * features // no overflow: 2^24 × 2^32
	words := uint64(1)
	if head[4] >= 2 {
		words = 2 // version 2: each feature's vectors since it fired follow the counts
	}
	if counts := in.DataBytes - 44; counts%8 != 0 || words*slots != uint64(counts/8) {
		return fmt.Errorf("%w: %d bytes of counts, the header (%d components × %d features) wants %d (truncated or corrupt)", metric.ErrFormat, counts, components, features, 8*words*slots)
	}
	in.Format = State
	in.Config = tally.Config{Elem: e, Components: int(components), Features: int(features)}
	in.DType = e.String()
	in.Shape = []int64{int64(vectors), int64(features)}
	if components > 0 {
		in.Shape = []int64{int64(vectors), int64(components), int64(features)}
	}
	in.Describe = fmt.Sprintf("%s %s counts over %d vectors, l0 state (FeatureActivity)", shapeText(in.Shape[1:]), e, vectors)
	in.rows = rows
	if o.Positions {
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

// stateRows are a state's counts: one job, loaded into the tally.
type stateRows struct {
	in    *Input
	src   io.ReaderAt // a file, read where it is counted
	whole []byte      // a stream's, read whole
}

func (s *stateRows) span() (int64, int64, bool) { return 1, s.in.DataBytes, false }

func (s *stateRows) count(w *Worker, _, _ int64, get func() (tally.Tally, error)) error {
	t, err := get()
	if err != nil {
		return err
	}
	var r io.Reader
	if s.whole != nil {
		r = bytes.NewReader(s.whole)
	} else {
		// openState checked the file's size against the header.
		r = &shrinkReader{r: io.NewSectionReader(s.src, 0, s.in.DataBytes), left: s.in.DataBytes}
	}
	return t.Load(r)
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
