package metric

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"

	"github.com/sparsekit/l0/kernel"
)

// The fused since-fired path: a dense batch of at least minColumnBatch
// vectors counted by the byte column kernels that also mark, per column,
// the last row in which it counts (kernel.AddNonZeroColumnBytesLast), so
// that the batch is read once, where markRowsLocked walks it again from its
// last row for each column that fired. It is taken where the level marks
// with assembly (kernel.HasColumnBytesLastKernels) and the rows are wide
// enough for the kernels' streams; else the walk.

// fusedLastRowBytes is the narrowest row, in bytes, a batch of more than
// maxPendingRows vectors is counted by the fused path with: narrower rows
// are counted by the column tiles (kernel's streamRowBytes), which the
// byte counters of the fused path would not match.
const fusedLastRowBytes = 1024

// fusedLast reports whether a batch of vectors rows of width counters, of
// elements of size bytes, goes through the fused path (updateMarked).
func fusedLast[T kernel.Element](vectors, width, size int) bool {
	if forceFusedLast.Load() {
		return true
	}
	if !kernel.HasColumnBytesLastKernels[T]() || width < 64 {
		return false
	}
	return vectors <= maxPendingRows || width*size >= fusedLastRowBytes
}

// forceFusedLast makes every batch of at least minColumnBatch vectors go
// through the fused path, at every level and width: the tests' switch.
var forceFusedLast atomic.Bool

// markScratch holds the marks of the fused path, a byte per counter, and
// lastRowScratch the last rows of a batch of more than maxPendingRows
// vectors, 8 bytes per counter (at most the batch's own bytes: it has 256
// vectors or more).
var (
	markScratch    scratchPool[uint8]
	lastRowScratch scratchPool[uint64]
)

// updateMarked counts the dense batch x of vectors rows of width counters
// outside the lock, in blocks of at most maxPendingRows rows into byte
// counters and their marks, and adds it under the lock with the positions
// of the features that fired in it: a batch of at most maxPendingRows
// vectors through the pending counters as addCountedBytes adds one, a
// larger one widened block by block into 64-bit scratch counts.
func updateMarked[T kernel.Element](c *core[T, activityKind], x []T, vectors, width int) error {
	small := activityByteScratch.get(width)
	defer activityByteScratch.put(small)
	marks := markScratch.get(width)
	defer markScratch.put(marks)
	if vectors <= maxPendingRows {
		if err := c.counter.addAllColumnBytesLast(*small, *marks, x, 0); err != nil {
			return err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		base := c.vectors
		if !c.addPendingLocked(int64(vectors), *small) {
			// Widened into the counts themselves (or, where a count could
			// pass 2^64, a checked scratch): no scratch of 8 bytes per
			// counter beside the marks.
			c.countsLocked()
			n, most := int64(vectors), uint64(vectors)
			into, scratch, err := c.beginInPlaceLocked(n, most)
			if err != nil {
				return err
			}
			_ = kernel.WidenByteCounts(into, *small) // as many: made so
			if err := c.endInPlaceLocked(n, most, scratch, nil); err != nil {
				return err
			}
		}
		setMarks(c.last, base, *marks)
		return nil
	}
	wide := activityScratch.get(width)
	defer activityScratch.put(wide)
	rows := lastRowScratch.get(width)
	defer lastRowScratch.put(rows)
	for r0 := 0; r0 < vectors; r0 += maxPendingRows {
		r1 := min(r0+maxPendingRows, vectors)
		if err := c.counter.addAllColumnBytesLast(*small, *marks, x[r0*width:r1*width], 0); err != nil {
			return err
		}
		_ = kernel.WidenByteCounts(*wide, *small) // as many: made so
		moveMarks(*rows, uint64(r0), *marks)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.countsLocked()
	base := c.vectors
	if err := c.addLocked(int64(vectors), *wide, uint64(vectors)); err != nil {
		return err
	}
	last := c.last
	for j, r := range *rows {
		if r != 0 {
			last[j] = base + int64(r)
		}
	}
	return nil
}

// setMarks sets last[j] = base + marks[j] for each mark that is not zero:
// eight marks a word, skipping the words of none.
func setMarks(last []int64, base int64, marks []uint8) {
	last = last[:len(marks)]
	i := 0
	for ; i+8 <= len(marks); i += 8 {
		w := binary.LittleEndian.Uint64(marks[i : i+8 : i+8])
		for w != 0 {
			k := bits.TrailingZeros64(w) >> 3
			last[i+k] = base + int64(w>>(8*k)&0xff)
			w &^= 0xff << (8 * k)
		}
	}
	for ; i < len(marks); i++ {
		if m := marks[i]; m != 0 {
			last[i] = base + int64(m)
		}
	}
}

// moveMarks sets rows[j] = base + marks[j] for each mark that is not zero,
// and clears the marks: the marks of a block of rows, base the rows before
// it, into the batch's last rows.
func moveMarks(rows []uint64, base uint64, marks []uint8) {
	rows = rows[:len(marks)]
	i := 0
	for ; i+8 <= len(marks); i += 8 {
		p := marks[i : i+8 : i+8]
		w := binary.LittleEndian.Uint64(p)
		if w == 0 {
			continue
		}
		binary.LittleEndian.PutUint64(p, 0)
		for w != 0 {
			k := bits.TrailingZeros64(w) >> 3
			rows[i+k] = base + w>>(8*k)&0xff
			w &^= 0xff << (8 * k)
		}
	}
	for ; i < len(marks); i++ {
		if m := marks[i]; m != 0 {
			rows[i] = base + uint64(m)
			marks[i] = 0
		}
	}
}
