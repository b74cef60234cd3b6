// Package metric measures the sparsity of sparse-autoencoder activations:
// the L0 norm of the sparse_autoencoder library (L0Norm), exactly, and the
// per-feature activity behind the usual training health signals
// (FeatureActivity). Both count with the SIMD kernels of package kernel.
//
// # Inputs
//
// A batch of learned activations is a row-major slice x with its shape:
// [batch, feature] for a metric without a component dimension (components
// 0), or [batch, component, feature] for one with components > 0. The
// element type is any kernel.Element: float32, float64, kernel.Float16,
// kernel.BFloat16, and the signed and unsigned integers of 8 to 64 bits.
//
// What counts is the metric's Rule, given once at construction as an Option
// of its constructor:
//
//	NonZero()      x != 0   (the default) for the float types +0 and -0 are
//	                        zero and NaN, ±Inf and subnormals are not, as
//	                        torch.count_nonzero and numpy.count_nonzero
//	                        decide, on the bits
//	Above(t)       x > t    float types; sparse_autoencoder's "fired"
//	AbsAbove(t)    |x| > t  float types; delphi's |x| > 1e-5
//
// as in NewFeatureActivity[float32](0, 16384, metric.AbsAbove(1e-5)). The
// thresholds are compared exactly, on the bits; NaN never counts.
// NewL0NormAbove and NewFeatureActivityAbove, the Above constructors of
// earlier releases, are deprecated: an Option serves every rule.
//
// # L0Norm
//
// The state is the number of activation vectors N (the batch rows seen)
// and, per component c, the number of counted elements A[c]. Update adds
// batch to N and, per component, the count over its batch×feature
// elements. Compute returns
//
//	L0[c] = A[c] / N
//
// the mean number of active features per activation vector, as the
// library's L0NormMetric computes it: [[1,0,1],[0,1,0]] gives 1.5.
// Unlike the original, the counts are exact 64-bit integers (not float32,
// exact only to 2^24), Compute before any vector is the error ErrNoVectors
// (not 0/0), and every input is validated.
//
// # FeatureActivity
//
// The state is N and, per component c and feature f, the number of vectors
// F[c][f] in which that feature fired. From it: Density (F/N), Dead (F ==
// 0), Dense (F/N > threshold), Histogram (log10 F/N in fixed bins) and L0
// (the sum over f of F[c][f] / N, equal to L0Norm's value).
//
// # Dead features in vectors
//
// A FeatureActivity made with the SinceFired option also keeps, per
// feature, the vectors seen after the last vector in which it fired
// (EleutherAI sparsify's num_tokens_since_fired; all N for a feature that
// never fired), exactly, one vector at a time: VectorsSinceFired returns
// them, and DeadAfter(n)
// the features whose count is more than n (sparsify's
// dead_feature_threshold, 10,000,000 tokens). This depends on the order of
// the vectors: the rows of a batch in order, the batches in the order they
// take the metric's lock (exact per batch, in their order of arrival, when
// many goroutines update at once), and Merge(b) means "b's vectors come
// after mine": the counts add, and a feature's since-fired becomes b's
// where it fired in b, else the receiver's + b's N. That combine is
// associative, so states of shards merged in their order give what one
// metric fed every vector in that order gives. A top-k batch (UpdateSparse)
// is exact per vector; a list of entries (UpdateEntries) has no vector per
// entry, and a feature that fired in it counts as fired in its last vector,
// as sparsify counts a batch (give one vector per call for exact counts).
// The counts cost 8 bytes per (component, feature) beside F. A dense
// Update of 8 vectors or more at the AVX-512 and AVX2 levels marks, per
// column, the last row it counts in within its column pass (the kernel's
// Add*ColumnBytesLast); every other Update (the generic level, NEON,
// float64 at AVX2, fewer vectors, sparse and masked batches) finds it by
// walking the batch back from its end over the columns not yet found
// (BenchmarkSinceFired).
// Without SinceFired a FeatureActivity keeps none of this (its Updates
// walk nothing, its state is version 1), VectorsSinceFired and DeadAfter
// are ErrConfig errors, and a metric with SinceFired refuses to Merge one
// without it (ErrMismatch: its vectors since fired are unknown); the
// other way round, the counts merge.
//
// # Sparse activations
//
// Top-k and batch-top-k SAEs give, per vector, k feature indices and their
// values rather than a dense row. UpdateSparse takes them as torch.topk
// returns them, in a TopK: [Batch, K] or [Batch, Components, K] indices,
// values of the same shape, or nil values (every entry counts);
// UpdateEntries takes a list of (feature, value) entries with the number of
// vectors they came from. Both take an *L0Norm or a *FeatureActivity (the
// Sparse interface) and any index type of kernel.Index (int32, int64,
// uint16, uint32):
//
//	a, _ := metric.NewFeatureActivity[float32](0, 16384)
//	_ = metric.UpdateSparse(a, metric.TopK[float32, int64]{Index: indices, Values: values, Batch: batch, K: 64})
//
// UpdateTopK(a, indices, values, batch, 64) is the same call with the sizes
// as a shape.
//
// A sparse batch leaves a metric in exactly the state its dense batch
// leaves it (the same MarshalBinary bytes): an entry counts by the metric's
// rule, as the dense element would, and entries whose value does not count
// add nothing. Every index is checked before anything is added
// (kernel.ErrIndex, wrapped in ErrShape). The counting is the index kernels
// of package kernel, a scatter into byte counters, at a few times numpy's
// bincount.
//
// # Token masks and per-sequence statistics
//
// Evaluations leave the vectors of special tokens (BOS, EOS, padding) out
// of every statistic. L0Norm.UpdateMasked, FeatureActivity.UpdateMasked
// and UpdateSparseMasked take, beside a batch, a keep mask of one bool per
// vector (TokenMask makes it from token ids and the ids to leave out), and
// leave a metric exactly as the batch of the kept vectors alone would: the
// kernels count each run of kept rows in place, and never read the others.
//
// SequenceActivity counts batches of sequences, [sequence, position,
// feature]: per feature the vectors it fired in (its Activity, a
// FeatureActivity) and the sequences it fired in at least once, from
// which SAEBench's consistent_activation_heuristic follows (firings /
// sequences fired, NaN where none); made with a number of positions, it
// also counts the L0 of each position over its kept vectors. The column
// kernel adds each sequence's kept runs to the batch's firings, and a
// branch-free fold adds one sequence to every feature whose firings that
// sequence moved, in the same pass as the firings: no kernel of its own in
// assembly. UpdateSequencesTopK takes the top-k form.
//
// # Edge cases
//
//   - A batch of zero vectors is valid and changes nothing (Forward returns
//     ErrNoVectors for it: its value is undefined).
//   - Vectors of zero features are valid: they count as vectors, of L0 0,
//     however many (a batch of 2^62 of them is one Update).
//   - A wrong rank, a component or feature count other than the metric's,
//     a negative size, a size product that overflows int or that is not
//     len(x) is an ErrShape error.
//   - A metric takes at most MaxComponents components and a FeatureActivity
//     at most MaxCounters counters (components × features); larger sizes
//     are an ErrConfig error from the constructors and an ErrFormat error
//     from UnmarshalBinary. Every result then costs memory in proportion
//     to the metric's own state or its components, whatever the inputs.
//   - Any rejected call returns an error wrapping one of the sentinels
//     (ErrShape, ErrConfig, ErrMismatch, ErrFormat, ErrOverflow,
//     ErrNoVectors) and leaves the metric exactly as it was. Nothing panics
//     on bad input: no size, shape, state or threshold, nor a nil metric
//     (a constructor's result whose error was ignored), whose methods
//     return ErrConfig or a zero value.
//
// # Concurrency
//
// Both metrics are safe for concurrent use. Update counts its batch outside
// the metric's lock and adds the counts under it, so goroutines updating
// one metric count in parallel and the totals stay exact. (A
// FeatureActivity counts a batch of fewer than 8 vectors in place, under
// the lock: its scratch would be the size of the state, larger than the
// batch. In place means, after its first batch, into pending counters of
// a byte per feature, kept in front of the 64-bit counts and added to
// them before they could overflow and before anything reads, merges,
// resets or saves the state: a vector of 2^20 features costs a read of
// its bytes and a byte of counter per feature, not the 16 of a 64-bit
// count read and written. Batches of 8 to 255 vectors are counted outside
// the lock into byte counters, added to the pending ones under it.) The
// scratch counters an Update takes are never more than the
// batch's own bytes plus 8 bytes per component, and come from pools, so
// that a steady stream of Updates does not allocate. Merge holds both
// metrics' locks, taken in the order of the metrics' addresses, and adds
// the other's counts straight from its state, with no copy of them:
// merges in opposite directions cannot deadlock, and merging a metric with
// itself doubles it.
//
// # Merging and the binary format
//
// Like torchmetrics' sum reduction, Merge adds another metric's state: the
// metrics of many goroutines, processes or machines reduce to one. To move
// a state between processes, MarshalBinary (or AppendBinary) encodes it and
// UnmarshalBinary restores it into a metric of the same configuration,
// decoding the counts straight into the metric's (no copy of them);
// FeatureActivity.ReadFrom restores one from a stream, a piece at a time,
// into an empty metric, so that a state of gigabytes costs the metric's own
// counts and 128 KiB. The format, version 1, or 2 for a FeatureActivity
// made with SinceFired, little-endian:
//
//	offset  size  field
//	0       4     magic: "L0NM" (L0Norm) or "L0FA" (FeatureActivity)
//	4       1     version: 1, or 2 (FeatureActivity with SinceFired)
//	5       1     element type: 1 float32, 2 float64, 3 float16, 4 bfloat16,
//	              5 int8, 6 int16, 7 int32, 8 int64,
//	              9 uint8, 10 uint16, 11 uint32, 12 uint64
//	6       1     flags, the rule: 0 NonZero, 1 Above, 3 AbsAbove (bit 0:
//	              a threshold; bit 1: of |x|)
//	7       1     reserved, zero
//	8       8     components (0: no component dimension)
//	16      8     features (FeatureActivity; 0 for L0Norm)
//	24      8     threshold, float64 bits (zero without flag bit 0; -0 is
//	              written as +0, and read as +0)
//	32      8     N, the number of activation vectors (< 2^63)
//	40      8×n   counts: n = max(components, 1) for L0Norm (A),
//	              max(components, 1) × features for FeatureActivity (F)
//	40+8n   8×n   FeatureActivity version 2 only: per counter, the vectors
//	              since it fired (≤ N; N exactly when its count is 0)
//	end−4   4     CRC-32C (Castagnoli) of all the bytes before it
//
// UnmarshalBinary (and ReadFrom) rejects, with ErrFormat and without
// changing the metric, a state that is truncated, has trailing bytes,
// another magic or version, unknown flags, a bad checksum, sizes past
// MaxComponents or MaxCounters (checked before anything is sized by them),
// or counts that cannot be (counts without vectors); and, with
// ErrMismatch, a state of another element type, components, features or
// rule; and a FeatureActivity's since-fired counts above N, or N for a
// feature that fired, or below N for one that did not. States written
// before AbsAbove existed (flags 0 and 1) load as they always did, and so
// do FeatureActivity states of version 1, written before the since-fired
// counts: they do not say when a feature fired, and read as what their
// counts allow, N for a feature that never fired and 0 (fired in the
// state's last vector, the least it can be) for one that did, so that
// DeadAfter never calls dead a feature of an old state that might not be.
// A metric with SinceFired writes them back as version 2; one without it
// reads version 2 states too (their since-fired counts checked, and
// dropped) and writes version 1.
package metric
