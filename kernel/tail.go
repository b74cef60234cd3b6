package kernel

import "unsafe"

// The AVX2 and NEON kernels read whole vectors only (of each row, for the
// column tiles): one adapter per shape of kernel completes them with a
// kernel of the same shape, a generic one, for the lanes after the last
// whole vector of vectorBytes.

func countWithTail[W word](vectorBytes int, vectors, tail countKernel[W]) countKernel[W] {
	lanes := vectorBytes / int(unsafe.Sizeof(W(0)))
	return func(x []W) int {
		whole := len(x) - len(x)%lanes
		if whole == len(x) {
			// No tail: the generic kernel's setup would cost as much as
			// the vectors of a short call.
			return vectors(x)
		}
		return vectors(x) + tail(x[whole:])
	}
}

func rangeWithTail[W word](vectorBytes int, vectors, tail rangeKernel[W]) rangeKernel[W] {
	lanes := vectorBytes / int(unsafe.Sizeof(W(0)))
	return func(x []W, lo, span W) int {
		whole := len(x) - len(x)%lanes
		if whole == len(x) {
			return vectors(x, lo, span)
		}
		return vectors(x, lo, span) + tail(x[whole:], lo, span)
	}
}

func columnsWithTail[W word](vectorBytes int, vectors, tail columnKernel[W]) columnKernel[W] {
	lanes := vectorBytes / int(unsafe.Sizeof(W(0)))
	return func(counts []uint64, x []W, stride, rows int) {
		whole := len(counts) - len(counts)%lanes
		vectors(counts, x, stride, rows)
		if whole < len(counts) {
			tail(counts[whole:], x[whole:], stride, rows)
		}
	}
}

func rangeColumnsWithTail[W word](vectorBytes int, vectors, tail rangeColumnKernel[W]) rangeColumnKernel[W] {
	lanes := vectorBytes / int(unsafe.Sizeof(W(0)))
	return func(counts []uint64, x []W, stride, rows int, lo, span W) {
		whole := len(counts) - len(counts)%lanes
		vectors(counts, x, stride, rows, lo, span)
		if whole < len(counts) {
			tail(counts[whole:], x[whole:], stride, rows, lo, span)
		}
	}
}

// The stream kernels of AVX2 read whole runs of runLanes columns of each
// row; a generic stream counts the columns after them, if there are any.
// A nil stream stays nil.

func streamWithTail[W word](runLanes int, runs, tail streamKernel[W]) streamKernel[W] {
	if runs == nil {
		return nil
	}
	return func(counts []uint8, x []W, cols, stride, rows int) {
		whole := cols - cols%runLanes
		runs(counts, x, cols, stride, rows)
		if whole < cols {
			tail(counts[whole:], x[whole:], cols-whole, stride, rows)
		}
	}
}

func rangeStreamWithTail[W word](runLanes int, runs, tail rangeStreamKernel[W]) rangeStreamKernel[W] {
	if runs == nil {
		return nil
	}
	return func(counts []uint8, x []W, cols, stride, rows int, lo, span W) {
		whole := cols - cols%runLanes
		runs(counts, x, cols, stride, rows, lo, span)
		if whole < cols {
			tail(counts[whole:], x[whole:], cols-whole, stride, rows, lo, span)
		}
	}
}
