package kernel

// The adapters that complete a level's kernel of one shape with the
// generic kernel of the same rule, lane and shape (impl.go's over): where
// the level has no kernel (nil), the generic one; where its kernel reads
// whole groups of lanes only (whole vectors of AVX2 and NEON, of each row
// for the column tiles; whole runs of columns of the AVX2 streams; whole
// 64-lane words of bitmap of the index masks), the level's kernel for the
// groups and the generic one for the lanes after the last; where it reads
// any length (lanes == 0), the level's kernel alone. One adapter per
// shape.

func countOver[W word](lanes int, level, generic countKernel[W]) countKernel[W] {
	if level == nil {
		return generic
	}
	if lanes == 0 {
		return level
	}
	return func(x []W) int {
		whole := len(x) - len(x)%lanes
		if whole == len(x) {
			// No tail: the generic kernel's setup would cost as much as
			// the vectors of a short call.
			return level(x)
		}
		return level(x) + generic(x[whole:])
	}
}

func rangeOver[W word](lanes int, level, generic rangeKernel[W]) rangeKernel[W] {
	if level == nil {
		return generic
	}
	if lanes == 0 {
		return level
	}
	return func(x []W, lo, span W) int {
		whole := len(x) - len(x)%lanes
		if whole == len(x) {
			return level(x, lo, span)
		}
		return level(x, lo, span) + generic(x[whole:], lo, span)
	}
}

func columnsOver[W word](lanes int, level, generic columnKernel[W]) columnKernel[W] {
	if level == nil {
		return generic
	}
	if lanes == 0 {
		return level
	}
	return func(counts []uint64, x []W, stride, rows int) {
		whole := len(counts) - len(counts)%lanes
		level(counts, x, stride, rows)
		if whole < len(counts) {
			generic(counts[whole:], x[whole:], stride, rows)
		}
	}
}

func rangeColumnsOver[W word](lanes int, level, generic rangeColumnKernel[W]) rangeColumnKernel[W] {
	if level == nil {
		return generic
	}
	if lanes == 0 {
		return level
	}
	return func(counts []uint64, x []W, stride, rows int, lo, span W) {
		whole := len(counts) - len(counts)%lanes
		level(counts, x, stride, rows, lo, span)
		if whole < len(counts) {
			generic(counts[whole:], x[whole:], stride, rows, lo, span)
		}
	}
}

// A level without stream assembly (NEON, AVX2's 64-bit lanes) counts every
// matrix in tiles (chunk.go): streamOver keeps a nil stream nil, and
// generic is a generic stream only for the columns after a level's runs.
// The generic level streams in Go (generic_stream.go).

func streamOver[W word](columns int, level, generic streamKernel[W]) streamKernel[W] {
	if level == nil || columns == 0 {
		return level
	}
	return func(counts []uint8, x []W, cols, stride, rows int) {
		whole := cols - cols%columns
		level(counts, x, cols, stride, rows)
		if whole < cols {
			generic(counts[whole:], x[whole:], cols-whole, stride, rows)
		}
	}
}

func rangeStreamOver[W word](columns int, level, generic rangeStreamKernel[W]) rangeStreamKernel[W] {
	if level == nil || columns == 0 {
		return level
	}
	return func(counts []uint8, x []W, cols, stride, rows int, lo, span W) {
		whole := cols - cols%columns
		level(counts, x, cols, stride, rows, lo, span)
		if whole < cols {
			generic(counts[whole:], x[whole:], cols-whole, stride, rows, lo, span)
		}
	}
}

func maskOver[W word](lanes int, level, generic maskKernel[W]) maskKernel[W] {
	if level == nil {
		return generic
	}
	if lanes == 0 {
		return level
	}
	return func(bits []uint64, x []W) {
		whole := len(x) - len(x)%lanes
		level(bits, x[:whole])
		if whole < len(x) {
			generic(bits[whole/64:], x[whole:])
		}
	}
}

func rangeMaskOver[W word](lanes int, level, generic rangeMaskKernel[W]) rangeMaskKernel[W] {
	if level == nil {
		return generic
	}
	if lanes == 0 {
		return level
	}
	return func(bits []uint64, x []W, lo, span W) {
		whole := len(x) - len(x)%lanes
		level(bits, x[:whole], lo, span)
		if whole < len(x) {
			generic(bits[whole/64:], x[whole:], lo, span)
		}
	}
}

func maxOver[I indexWord](lanes int, level, generic maxKernel[I]) maxKernel[I] {
	if level == nil {
		return generic
	}
	if lanes == 0 {
		return level
	}
	return func(x []I) I {
		whole := len(x) - len(x)%lanes
		return max(level(x[:whole]), generic(x[whole:]))
	}
}

func widenOver(lanes int, level, generic widenKernel) widenKernel {
	if level == nil {
		return generic
	}
	if lanes == 0 {
		return level
	}
	return func(counts []uint64, small []uint8) {
		whole := len(small) - len(small)%lanes
		level(counts, small[:whole])
		if whole < len(small) {
			generic(counts[whole:], small[whole:])
		}
	}
}
