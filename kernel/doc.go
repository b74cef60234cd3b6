// Package kernel counts the elements of numeric slices that are not zero, or
// that are above a threshold, with SIMD kernels generated for each
// instruction set, at the memory read limit of the machine.
//
// # What is counted
//
// CountNonZero counts what numpy.count_nonzero and torch.count_nonzero count:
//
//   - float32, float64, Float16 (IEEE 754 half) and BFloat16: +0 and -0 are
//     zero (the sign bit is ignored, so the 16-bit pattern 0x8000 is zero);
//     NaN with any payload, ±Inf and subnormals are not;
//   - int8 to int64 and uint8 to uint64: only the all-zero pattern is zero;
//     the pattern with just the sign bit set is not.
//
// The kernels decide on the bits (bits & mask != 0), never with a
// floating-point compare, so the answer does not depend on the FPU's
// denormal modes.
//
// Three rules of counting, each a family of functions in three shapes:
//
//	rule         a run of elements   per row (into counts)   per column
//	x != 0       CountNonZero        CountNonZeroRows        AddNonZeroColumns
//	x > t        CountAbove          CountAboveRows          AddAboveColumns
//	|x| > t      CountAbsAbove       CountAbsAboveRows       AddAbsAboveColumns
//
// Sparse activations, (feature index, value) entries of top-k and
// batch-top-k SAEs, have their own family: AddIndexCounts (every entry),
// AddNonZeroIndexCounts, AddAboveIndexCounts and AddAbsAboveIndexCounts add
// one to a per-feature counter for each entry whose value counts by the
// rule, after checking every index (ErrIndex); CheckIndex checks indices
// alone.
//
// The thresholded rules are for the float types and exact: the threshold is
// a float64 compared with each element as real numbers, and NaN never
// counts. The column counts of a batch of activation vectors [batch,
// feature] are the per-feature firing counts; the row counts of [batch,
// component, feature] into one count per component are the state of the
// L0 norm.
//
// # Levels
//
// One Level runs every call:
//
//	avx512   amd64 with AVX512F and AVX512BW
//	avx2     amd64 with AVX2
//	neon     arm64 with Advanced SIMD (every arm64 CPU)
//	generic  portable Go, everywhere, and the only level with -tags purego
//
// It is chosen once, at start-up, from golang.org/x/sys/cpu: the best level
// whose instructions the CPU and the operating system support. GODEBUG
// switches steer it, as x/sys/cpu applies them first:
// GODEBUG=cpu.avx512f=off selects avx2, GODEBUG=cpu.avx2=off,cpu.avx512f=off
// generic, GODEBUG=cpu.asimd=off generic on arm64. The purego build tag
// removes every assembly file and stub from the build. Active reports the
// level in use, Levels those available, and SetLevel pins one for tests and
// benchmarks, clamped to what the CPU has.
//
// Which level has assembly for which shape, for every rule (x != 0, x > t,
// |x| > t) and lane width, and where the generic code does the rest:
//
//	shape                          avx512           avx2                       neon
//	a run of elements, per row     any length       whole 32-byte vectors      whole 16-byte vectors
//	per column, in tiles           any length       whole 32-byte vectors      whole 16-byte vectors
//	per column, streams            any length       8-, 16-, 32-bit lanes:     none: tiles
//	  (wide matrices)                               whole runs of 32 columns
//	sparse entries: value masks,   whole groups     whole groups of 64         none: generic Go
//	  index check, widening        of 64
//	sparse entries: increments     scalar amd64 assembly, at both levels       generic Go
//	narrow rows (under 1 KiB,      value masks,     value masks,               generic masks,
//	  two counts or more)            split by row     split by row               split by row
//	                                 (POPCNT)         (POPCNT)
//
// (The generic level streams wide matrices in portable Go: byte counters,
// eight columns of SWAR tests at a time.)
//
// Each level is one table of kernels, organised by rule (impl.go): the
// generic table, with the kernels the level has assembly for in place of
// the generic ones. A call reads the active table once.
//
// Rows narrower than 1 KiB into two counts or more are not a call per row
// (which costs more than the row) but one stream: the value masks of the
// index family write a bitmap of the lanes that count, and Go splits it by
// row (rows.go); into one count they are a count of x.
//
// # Guarantees
//
// No kernel reads a byte outside the slice it is given, whatever its length
// and alignment: AVX-512 reads a partial vector (the head up to a 64-byte
// boundary, so that no load of its main loop splits a cache line, and the
// tail) with a masked, zeroing load; AVX2 and NEON stop at the last whole
// vector and leave the rest to Go. The tests place every length against
// PROT_NONE guard pages on both sides. No load reaches a page that holds none
// of the slice either, not even with those lanes masked off (in a page that
// is not present that costs a microcode assist per call): the AVX-512 tail is
// the vector that ends at the slice's end.
//
// Counting allocates nothing and does no feature detection. Counts are exact
// for any length: byte-wide lane counters are widened into 64-bit totals
// before they can overflow, and wider ones hold every lane of a call of
// ChunkBytes. Assembly cannot be preempted, so long inputs are
// processed ChunkBytes at a time, each chunk through a non-inlined Go
// function that honours a pending preemption: a count over gigabytes does not
// hold off the garbage collector's stop-the-world.
package kernel
