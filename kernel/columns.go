package kernel

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrShape is the error, wrapped with the details, of a column or row count
// whose slice is not a matrix of the shape its counts describe: len(counts)
// columns for AddNonZeroColumns and AddAboveColumns, whole rows of width
// elements for CountNonZeroRows.
var ErrShape = errors.New("kernel: x does not have the shape the counts need")

// AddNonZeroColumns treats x as a row-major matrix with len(counts) columns
// and adds to counts[j] the number of rows whose element in column j is not
// zero, with CountNonZero's meaning of zero (for floats, +0 and -0 are zero
// and NaN, ±Inf and subnormals are not). With x the activations of a batch,
// [batch, feature], counts[j] gains the number of vectors in which feature
// j fired.
//
// It returns an error wrapping ErrShape, and changes nothing, if
// len(counts) == 0 while len(x) > 0, or if len(x) is not a multiple of
// len(counts). It reads no byte outside x and no count outside counts,
// allocates nothing, runs the level that Active reports, and works through
// long inputs in tiles of at most ChunkBytes per assembly call.
func AddNonZeroColumns[T Element](counts []uint64, x []T) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	k := columnKernelsFor(Active())
	switch s := any(x).(type) {
	case []float32:
		addColumnTiles(counts, words[uint32](s), k.float32)
	case []float64:
		addColumnTiles(counts, words[uint64](s), k.float64)
	case []Float16:
		addColumnTiles(counts, words[uint16](s), k.float16)
	case []BFloat16:
		addColumnTiles(counts, words[uint16](s), k.float16)
	case []int8:
		addColumnTiles(counts, words[uint8](s), k.bits8)
	case []uint8:
		addColumnTiles(counts, s, k.bits8)
	case []int16:
		addColumnTiles(counts, words[uint16](s), k.bits16)
	case []uint16:
		addColumnTiles(counts, s, k.bits16)
	case []int32:
		addColumnTiles(counts, words[uint32](s), k.bits32)
	case []uint32:
		addColumnTiles(counts, s, k.bits32)
	case []int64:
		addColumnTiles(counts, words[uint64](s), k.bits64)
	case []uint64:
		addColumnTiles(counts, s, k.bits64)
	default:
		panic("unreachable: Element has no other types")
	}
	return nil
}

// AddAboveColumns is AddNonZeroColumns with CountAbove's meaning: it adds
// to counts[j] the number of rows whose element in column j is greater
// than threshold, compared exactly (NaN elements never count, a NaN
// threshold counts nothing, -0 equals +0). It returns the same errors, and
// on error changes nothing.
func AddAboveColumns[T Float](counts []uint64, x []T, threshold float64) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	k := columnKernelsFor(Active())
	switch s := any(x).(type) {
	case []float32:
		addAboveTiles(counts, words[uint32](s), float32Floor(threshold), k.aboveFloat32)
	case []float64:
		addAboveTiles(counts, words[uint64](s), float64Floor(threshold), k.aboveFloat64)
	case []Float16:
		addAboveTiles(counts, words[uint16](s), float16Floor(threshold), k.aboveFloat16)
	case []BFloat16:
		addAboveTiles(counts, words[uint16](s), bfloat16Floor(threshold), k.aboveFloat16)
	default:
		panic("unreachable: Float has no other types")
	}
	return nil
}

func checkColumns(cols, n int) error {
	switch {
	case cols == 0 && n > 0:
		return fmt.Errorf("%w: %d elements but no columns", ErrShape, n)
	case cols > 0 && n%cols != 0:
		return fmt.Errorf("%w: %d elements are not whole rows of %d columns", ErrShape, n, cols)
	}
	return nil
}

// columnTile adds to counts[j], for j < len(counts), the number of rows r <
// rows whose element x[r*stride+j] counts. The tiles of addColumnTiles
// always have len(x) = (rows-1)*stride + len(counts), rows >= 1, and rows
// at most maxTileRows of the lane width.
type columnTile[W word] func(counts []uint64, x []W, stride, rows int)

// aboveTile is columnTile for a threshold: an element counts when
// key(b)-lo <= span (see thresholdKeys).
type aboveTile[W word] func(counts []uint64, x []W, stride, rows int, lo, span W)

// columnKernels is one level's column-counting tile for each lane width
// and meaning of zero, and for each float width the above-threshold tile.
type columnKernels struct {
	level        Level
	bits8        columnTile[uint8]
	bits16       columnTile[uint16]
	float16      columnTile[uint16]
	bits32       columnTile[uint32]
	float32      columnTile[uint32]
	bits64       columnTile[uint64]
	float64      columnTile[uint64]
	aboveFloat16 aboveTile[uint16]
	aboveFloat32 aboveTile[uint32]
	aboveFloat64 aboveTile[uint64]
}

// columnTileBytes is the width of a tile, in bytes of each row. A tile is
// one assembly call of at most ChunkBytes (256 rows of 4 KiB), short enough
// for the garbage collector; the kernels run down its rows in strips of a
// few vectors. Tiles from 1 KiB to 64 KiB wide measured the same, within
// noise, on [4096, 16384] float32 from DRAM.
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
// at most ChunkBytes and adds each tile's column counts with tile. It is a
// Go loop, not inlined, so the goroutine can be preempted between tiles.
//
//go:noinline
func addColumnTiles[W word](counts []uint64, x []W, tile columnTile[W]) {
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

// addAboveTiles is addColumnTiles for AddAboveColumns.
func addAboveTiles[W word](counts []uint64, x []W, f floatBits[W], tile aboveTile[W]) {
	lo, span, ok := thresholdKeys(f)
	if !ok {
		return
	}
	addColumnTiles(counts, x, func(counts []uint64, x []W, stride, rows int) {
		tile(counts, x, stride, rows, lo, span)
	})
}

// addColumnTile is a Go function that is never inlined, so its prologue
// honours a pending preemption before every tile (see countChunk): a loop
// calling the assembly directly could not be preempted while it runs.
//
//go:noinline
func addColumnTile[W word](counts []uint64, x []W, stride, rows int, tile columnTile[W]) {
	tile(counts, x, stride, rows)
}
