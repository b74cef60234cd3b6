package kernel

import "unsafe"

// Every split of a long input for preemption lives here, for every family.
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
// counts[i % len(counts)]: whole rows, as many per countRowsChunk call as
// fit in ChunkBytes (at least one), each row through countChunks.
func countRows[W word](counts []uint64, x []W, width int, count countKernel[W]) {
	rowsPerCall := max(1, ChunkBytes/int(unsafe.Sizeof(x[0]))/width)
	slot := 0
	for len(x) > 0 {
		rows := min(rowsPerCall, len(x)/width)
		slot = countRowsChunk(counts, x[:rows*width], width, slot, count)
		x = x[rows*width:]
	}
}

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

// The range families bind lo and span to their kernels, once per call, and
// go through the same loops.

func countRangeChunks[W word](x []W, r keyRange[W], count rangeKernel[W]) int {
	if !r.ok {
		return 0
	}
	return countChunks(x, func(x []W) int { return count(x, r.lo, r.span) })
}

func countRangeRows[W word](counts []uint64, x []W, width int, r keyRange[W], count rangeKernel[W]) {
	if r.ok {
		countRows(counts, x, width, func(x []W) int { return count(x, r.lo, r.span) })
	}
}

func addRangeColumnTiles[W word](counts []uint64, x []W, r keyRange[W], tile rangeColumnKernel[W]) {
	if r.ok {
		addColumnTiles(counts, x, func(counts []uint64, x []W, stride, rows int) {
			tile(counts, x, stride, rows, r.lo, r.span)
		})
	}
}
