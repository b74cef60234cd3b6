package kernel

import (
	"sync"
	"unsafe"
)

// Every split of a long input for preemption of the dense shapes (count,
// rows, column tiles and streams) lives here; the index family splits its
// entries in index_add.go, by the same rule.
//
// Assembly cannot be preempted: a signal that lands in a kernel is ignored,
// and a loop that calls kernels back to back has no preemption check
// between calls. So each piece of at most ChunkBytes goes through a Go
// function that is never inlined, whose prologue honours a pending
// preemption: a count over gigabytes never holds off the garbage
// collector's stop-the-world for longer than one piece takes.

// ChunkBytes bounds the bytes one assembly call reads. Assembly cannot be
// preempted, so a call must be short for the garbage collector's
// stop-the-world not to wait on it: 1 MiB takes about 50 µs even from DRAM.
const ChunkBytes = 1 << 20

// countChunks counts x with count, ChunkBytes at a time: an input of one
// chunk goes straight to count, a longer one through countLong.
func countChunks[W word](x []W, count countKernel[W]) int {
	if len(x) <= ChunkBytes/int(unsafe.Sizeof(x[0])) {
		return count(x)
	}
	return countLong(x, count)
}

// countLong counts x one chunk at a time, each through countChunk.
func countLong[W word](x []W, count countKernel[W]) int {
	chunk := ChunkBytes / int(unsafe.Sizeof(x[0]))
	total := 0
	for len(x) > chunk {
		total += countChunk(x[:chunk:chunk], count)
		x = x[chunk:]
	}
	return total + countChunk(x, count)
}

// countChunk counts one chunk; never inlined, it is the preemption point.
//
//go:noinline
func countChunk[W word](x []W, count countKernel[W]) int {
	return count(x)
}

// countRows adds the count of row i of x, rows of width lanes, to
// counts[i % len(counts)]: for one count, the count of x; for narrow rows
// (rows.go), from the bitmaps of mask; else whole rows, as many per
// countRowsChunk call as fit in ChunkBytes (at least one), each row through
// countChunks.
func countRows[W word](counts []uint64, x []W, width int, count countKernel[W], mask maskKernel[W]) {
	if len(counts) == 1 {
		counts[0] += uint64(countChunks(x, count))
		return
	}
	if narrowRows[W](len(counts), width) && len(x)/width >= minSplitRows {
		countRowsMasked(counts, x, width, mask)
		return
	}
	rowsPerCall := max(1, ChunkBytes/int(unsafe.Sizeof(x[0]))/width)
	slot := 0
	for len(x) > 0 {
		rows := min(rowsPerCall, len(x)/width)
		slot = countRowsChunk(counts, x[:rows*width], width, slot, count)
		x = x[rows*width:]
	}
}

// minSplitRows is the fewest rows split from a bitmap: below it a call per
// row is faster, as the split's set-up (its pooled state, the periodic
// masks) costs about what 16 calls do (60-100 ns here). L0Norm.Update of
// one vector of 4 components of 4 features: 192 ns through the split, 91
// per row (BenchmarkSmallBatch, medians of 5 alternating runs).
const minSplitRows = 16

// countRowsChunk adds the count of each row of x to counts, starting at
// slot, and returns the slot of the next row; never inlined, it is the
// preemption point.
//
//go:noinline
func countRowsChunk[W word](counts []uint64, x []W, width, slot int, count countKernel[W]) int {
	for len(x) > 0 {
		counts[slot] += uint64(countChunks(x[:width:width], count))
		x = x[width:]
		if slot++; slot == len(counts) {
			slot = 0
		}
	}
	return slot
}

// columnTileBytes is the width of a column tile, in bytes of each row. A
// tile is one assembly call of at most ChunkBytes (256 rows of 4 KiB); the
// kernels run down its rows in strips of a few vectors. Tiles from 1 KiB to
// 64 KiB wide measured the same, within noise, on [4096, 16384] float32
// from DRAM.
const columnTileBytes = 4096

// maxTileRows bounds the rows of a tile so that the assembly kernels'
// lane-wide counters, one per column of a strip, cannot overflow.
func maxTileRows(width int) int {
	switch width {
	case 1:
		return 1<<8 - 1
	case 2:
		return 1<<16 - 1
	}
	return ChunkBytes
}

// streamRowBytes and streamRows are the row size and the number of rows
// from which a matrix is counted by a stream (row after row, in memory
// order), when the level has one, rather than in tiles (a strip of each row
// at a time, its counters in registers). A few rows are read in order by
// the tiles too, and cost a stream's scratch (a byte per column) for
// nothing. Variables only for the tests.
var (
	streamRowBytes = 1024
	streamRows     = 16
)

// addColumns adds the column counts of the matrix x, len(counts) columns
// wide, by stream or in tiles.
func addColumns[W word](counts []uint64, x []W, tile columnKernel[W], stream streamKernel[W]) {
	cols := len(counts)
	if stream != nil && cols*int(unsafe.Sizeof(x[0])) >= streamRowBytes && len(x) >= streamRows*cols {
		addColumnStream(counts, x, stream)
		return
	}
	addColumnTiles(counts, x, tile)
}

// streamScratch recycles the byte counters of the streams, so that a column
// count does not allocate.
var streamScratch sync.Pool

// addColumnStream adds the column counts of the matrix x, len(counts)
// columns wide, reading it in memory order: bands of whole rows, or of
// segments of long rows (streamPieces), each call at most ChunkBytes,
// through addStreamChunk. The stream counts into
// one byte per column, added to counts before any could pass 255.
func addColumnStream[W word](counts []uint64, x []W, stream streamKernel[W]) {
	cols := len(counts)
	rows := len(x) / cols
	width := int(unsafe.Sizeof(x[0]))
	need := (cols + 63) &^ 63
	p, _ := streamScratch.Get().(*[]uint8)
	if p == nil || cap(*p) < need {
		p = new([]uint8)
		*p = make([]uint8, need)
	}
	narrow := (*p)[:need]
	clear(narrow)
	band, segment := streamPieces(cols, width)
	band = min(band, 255)
	widen := active.Load().widen
	pending := 0 // rows in the byte counters
	for r0 := 0; r0 < rows; r0 += band {
		b := min(band, rows-r0)
		if pending+b > 255 {
			widenCounts(counts, narrow, widen)
			pending = 0
		}
		for c0 := 0; c0 < cols; c0 += segment {
			n := min(segment, cols-c0)
			start := r0*cols + c0
			end := start + (b-1)*cols + n
			addStreamChunk(narrow[c0:], x[start:end:end], n, cols, b, stream)
		}
		pending += b
	}
	widenCounts(counts, narrow, widen)
	streamScratch.Put(p)
}

// streamGroupRows is the rows the stream kernels read side by side, each
// byte counter loaded and stored once for all of them.
const streamGroupRows = 4

// streamPieces returns how a stream cuts a matrix of cols columns of
// width-byte lanes into calls of at most ChunkBytes: bands of band rows,
// each row cut into segments of segment columns (cols itself, or a
// multiple of 64 below it). Rows of up to a quarter of ChunkBytes go whole,
// as many as fit; longer ones in segments of streamGroupRows rows, so
// that the kernels still read their rows side by side and load and store
// each byte counter once per group, not once per row.
func streamPieces(cols, width int) (band, segment int) {
	if cols*width*streamGroupRows <= ChunkBytes {
		return ChunkBytes / (cols * width), cols
	}
	segment = ChunkBytes / (streamGroupRows * width) &^ 63
	return streamGroupRows, segment
}

// addStreamChunk streams one band or segment; never inlined, it is the
// preemption point.
//
//go:noinline
func addStreamChunk[W word](counts []uint8, x []W, cols, stride, rows int, stream streamKernel[W]) {
	stream(counts, x, cols, stride, rows)
}

// widenCounts adds the byte counters to counts, and clears them, with the
// level's widen kernel, ChunkBytes of counts at a time.
func widenCounts(counts []uint64, narrow []uint8, widen widenKernel) {
	narrow = narrow[:len(counts)]
	for len(counts) > 0 {
		n := min(len(counts), ChunkBytes/8)
		widenChunk(counts[:n], narrow[:n], widen)
		counts, narrow = counts[n:], narrow[n:]
	}
}

// addColumnTiles cuts the matrix x, len(counts) columns wide, into tiles of
// at most ChunkBytes and adds each tile's column counts with tile.
//
//go:noinline
func addColumnTiles[W word](counts []uint64, x []W, tile columnKernel[W]) {
	cols := len(counts)
	rows := len(x) / cols
	width := int(unsafe.Sizeof(x[0]))
	tileCols := min(cols, columnTileBytes/width)
	tileRows := max(1, min(ChunkBytes/(tileCols*width), maxTileRows(width)))
	for r0 := 0; r0 < rows; r0 += tileRows {
		tr := min(tileRows, rows-r0)
		for c0 := 0; c0 < cols; c0 += tileCols {
			tc := min(tileCols, cols-c0)
			start := r0*cols + c0
			end := start + (tr-1)*cols + tc
			addColumnTile(counts[c0:c0+tc:c0+tc], x[start:end:end], cols, tr, tile)
		}
	}
}

// addColumnTile adds one tile; never inlined, it is the preemption point.
//
//go:noinline
func addColumnTile[W word](counts []uint64, x []W, stride, rows int, tile columnKernel[W]) {
	tile(counts, x, stride, rows)
}

// The range tests bind lo and span to their kernels, once per call, and
// go through the same loops.

func countRangeChunks[W word](x []W, r keyRange[W], count rangeKernel[W]) int {
	switch {
	case !r.ok:
		return 0
	case len(x) <= ChunkBytes/int(unsafe.Sizeof(x[0])):
		return count(x, r.lo, r.span) // one chunk: the kernel, called straight from here
	}
	return countLong(x, func(x []W) int { return count(x, r.lo, r.span) })
}

func countRangeRows[W word](counts []uint64, x []W, width int, r keyRange[W], count rangeKernel[W], mask rangeMaskKernel[W]) {
	if r.ok {
		countRows(counts, x, width, func(x []W) int { return count(x, r.lo, r.span) },
			func(bits []uint64, x []W) { mask(bits, x, r.lo, r.span) })
	}
}

func addRangeColumns[W word](counts []uint64, x []W, r keyRange[W], tile rangeColumnKernel[W], stream rangeStreamKernel[W]) {
	if !r.ok {
		return
	}
	var bound streamKernel[W]
	if stream != nil {
		bound = func(counts []uint8, x []W, cols, stride, rows int) {
			stream(counts, x, cols, stride, rows, r.lo, r.span)
		}
	}
	addColumns(counts, x, func(counts []uint64, x []W, stride, rows int) {
		tile(counts, x, stride, rows, r.lo, r.span)
	}, bound)
}
