// Command l0 reports the sparsity of sparse-autoencoder activations stored
// in NumPy .npy and safetensors files: the L0 norm (the mean number of
// non-zero features per activation vector, per component, or per token
// position), dead and dense features, and the log10 feature density
// histogram, counted with l0's SIMD kernels. It reports each file, or one
// total over many shards; it saves the total as a mergeable state, so
// that shards counted on many machines reduce to one report, and writes
// SAELens' sparsity.safetensors.
//
//	go install github.com/sparsekit/l0/cmd/l0@latest
//
// What follows is the reference of the command, and the one place its
// flags are described in full (l0 -h lists them in short).
//
// Usage:
//
//	l0 [-json] [-threshold T | -abs-threshold T] [-dense D] [-dead-after N] [-key NAME]
//	   [-positions] [-skip-positions N] [-total [-per-file]] [-save FILE]
//	   [-sparsity FILE] [-j N] [-mmap] [FILE ...]
//	l0 -exclude-tokens ID[,ID...] [-tokens FILE.npy | -tokens-key NAME] [flags] FILE ...
//	l0 -positions -feature-stats FILE [flags] FILE ...  (a delphi cache needs no -positions)
//	l0 -sparse INDEX_KEY[,VALUE_KEY] -features D [flags] FILE ...
//	l0 [flags] DELPHI_CACHE_DIR | DIR/{start}_{end}.safetensors
//	l0 -kernels
//
// # Inputs
//
// The format is recognised by the first bytes, not by the file's name: a
// .npy array ("\x93NUMPY"), an l0 state ("L0FA", as -save writes it), or
// a safetensors file. A 2-D array is [batch, feature]; a 3-D array is
// [batch, component, feature], or with -positions [batch, position,
// feature]. The .npy dtypes are <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8
// |b1, C order, in format versions 1.0 to 3.0; the safetensors dtypes F64 F32 F16 BF16 I64 I32 I16 I8 U64
// U32 U16 U8 BOOL (C64 and the F8, F6 and F4 variants are an error that
// names the dtype). From a safetensors file l0 reads the tensor -key names
// (-key "" names a tensor named ""), or without -key the one tensor of
// rank 2 or 3 of a dtype it counts; when there is none, or more than one,
// the error lists the file's tensors. A shape of more than 64 dimensions
// (numpy's own bound) is an error as the header is read; a message shows
// at most 16 dimensions of a shape, and a listing of a file's tensors at
// most 64 bytes of each name.
// Without files, l0 reports on a built-in sample.
//
// A regular file is read at offsets with read(2), a batch of whole rows at
// a time into a buffer per worker: 7 rows of up to 512 KiB in all when
// rows are long (a batch of fewer than 8 vectors is counted straight into
// the metric's counters, and stays in the core's cache between the copy
// and the count), 2 MiB of rows otherwise. With -mmap, files are counted
// in memory-mapped windows of 8 MiB where the page cache holds them,
// unmapped as it goes (on little-endian machines with mmap, when the data
// is aligned for its dtype): no copy, but on the machine measured it was
// 1.4 times slower at best, 4 times when the machine was busy (the column
// kernels cross a page, and miss the TLB, for every 4 KiB they read of
// each row). A path that is not a regular file (a
// pipe, /dev/stdin) is read as a stream of unknown size; such a path given
// twice, by one name or two (/dev/stdin, /proc/self/fd/0), is a
// command-line error: a stream can be read once, and two readers would
// each take bytes from the other. A file that shrinks while it is counted
// is an error that names it, mapped or not (the fault on a vanished page
// is caught).
//
// -j N goroutines (1 to 1024; default: the CPUs Go may use) count at
// once: the inputs in parallel, and a large file split into ranges of rows
// (16 to 64 MiB, about one per worker), each into its own counts, merged
// at the end.
//
// # Positions
//
// -positions reads a 3-D array as [batch, position, feature]: its vectors
// are batch × position, the L0 and feature activity are over all of them,
// and the report adds the L0 per position (the first 8 and the range of
// the rest in text, each in -json's l0_by_position). -skip-positions N
// (which implies -positions, -skip-positions 0 too: a script's
// -skip-positions $SKIP means the same at 0) leaves the first N positions
// of every row out of every statistic: the BOS token, which SAE
// evaluations exclude.
//
// # Token masks
//
// -exclude-tokens ID[,ID...] leaves out of every statistic the vectors
// whose token id is listed (BOS, EOS, padding ids), wherever they stand:
// the vectors, the L0, the L0 per position, the density, the dead and
// dense features, the histogram, the state -save writes, -sparsity and
// -feature-stats. A BOS also stands mid-sequence in concatenated prompts,
// which -skip-positions cannot leave out. The ids are decimal integers, 0
// to 2^63 - 1, each given once: an empty list or id, a negative id, one
// past 2^63 - 1 and one given twice are command-line errors.
//
// The ids come from the input's tokens, one per vector: [batch, position]
// with -positions, else [batch] (one id per row, for a [batch, feature] or
// [batch, component, feature] array). A safetensors input holds them
// beside the activations (OpenMOSS-style activation chunks): the tensor
// -tokens-key NAME names, or "tokens"; a .npy input's are the .npy array
// of -tokens FILE.npy (one input with it). They are integers of any
// dtype. A delphi cache's are its "tokens" [sequences, ctx] (see below).
// An input without tokens (a .npy file without -tokens, a safetensors
// file without the tensor, a delphi cache saved without tokens, a state)
// is an error with this flag,
// and so are tokens of a float dtype and tokens whose shape is not the
// vectors' (the error names both shapes). The ids are read at offsets with
// each batch of rows, a byte of keep mask a vector: the input must be a
// regular file (a pipe is an error). With -skip-positions the skipped
// positions are left out too. The text report says how many vectors the
// mask left out, -json in "excluded_vectors"; a position at which no vector
// is kept has no L0 (NaN in text, null in -json's l0_by_position), and an
// input whose every vector is left out is an error (no L0).
//
// # Per-sequence statistics
//
// For inputs with positions (a 3-D array with -positions, a top-k pair
// [batch, position, k] with -positions, a delphi cache), each row is a
// sequence, and l0
// counts, per feature, the sequences in which it fired at least once (at
// a kept position). -feature-stats FILE writes the total's statistics of
// SAEBench's core evaluation to a safetensors file, whole or not at all
// (as -sparsity): "firing_counts" (I64, the kept vectors each feature
// fired in), "sequences_fired" (I64), "feature_density" (F64,
// firing_counts / kept vectors) and "consistent_activation_heuristic"
// (F64, firing_counts / sequences_fired, NaN where the feature fired in no
// sequence), and "vectors_since_fired" (I64, the kept vectors after the
// last one it fired in: all of them for a feature that never fired; see
// Dead features), each of shape [features]. -json then adds "sequences", the
// number of sequences (those with no kept position too). A sequence's
// statistics come in the same pass as the feature counts: per sequence,
// the column kernel counts its runs of kept positions, and a branch-free
// fold adds 1 to each feature whose count they moved (a delphi cache's
// entries come by sequence: a stamp per latent of the last sequence it
// fired in counts each sequence once). -feature-stats with an input without
// positions (an array read without -positions) or a state (which holds no
// sequences) is a bad input; the file follows the rules of the
// outputs below (never an input, never a file of another kind). A
// per-sequence count merges only with others of the same kind: inputs with
// -exclude-tokens or -feature-stats and positions (and top-k pairs with
// positions, and delphi caches with either flag) total with each other,
// not with states.
//
// # Top-k files
//
// -sparse INDEX_KEY[,VALUE_KEY] -features D reads each safetensors input
// as a top-k SAE encoder's output: the tensor INDEX_KEY of feature
// indices, [batch, k] or [batch, components, k], of any integer dtype (I64
// I32 I16 I8 U64 U32 U16 U8), and the tensor VALUE_KEY of their values, of
// the same shape and a float dtype (F64 F32 F16 BF16). l0 reports the pair
// exactly as it reports the dense [batch, (components,) D] array it stands
// for (metric.UpdateTopK leaves the counts the dense batch leaves): the
// vectors, L0, dead and dense features, histogram and state, the values
// counted by the run's rule, so a zero among the top k does not count.
// Without VALUE_KEY every entry counts (sparsify's "fired"): the pair is
// the mask of its entries, counted as uint8 as a BOOL array is, and
// -threshold or -abs-threshold, which would compare values there are none
// of, is a command-line error. An index outside [0, D) is an error that
// says where it is (a U64 index past the int range too: never wrapped); an
// index given twice in a vector counts twice (torch.topk gives none).
//
// A pair is counted into the same tallies as any input: with -total it
// merges with .npy files and states of the same element type (the values';
// uint8 without values), components and features. With -sparse every
// safetensors input is read as a pair, .npy files and states as always;
// -key is refused. With -positions a pair of indices [batch, position, k]
// is [batch, position, D], its L0 per position and per-sequence statistics
// counted from the entries. The two tensors are read side by side
// at offsets, batches of rows of up to 2 MiB of both, a large file split
// across workers: -sparse reads regular files only (a pipe is an error),
// with read(2) (-mmap does not apply). In -json a pair's "format" is
// "topk", its "shape" the dense array's, its "dtype" the values' as the
// file spells it (or "uint8"), and "sparse" names its tensors, their dtypes
// and k.
//
// # delphi latent caches
//
// A directory is read as a latent cache of EleutherAI's delphi (one
// hookpoint's): its {start}_{end}.safetensors splits (end inclusive; delphi
// splits the latents by torch.linspace(0, width, n_splits + 1)), each
// holding "locations" [n, 3] U16 or U32 (sequence, position, latent −
// start), "activations" [n] F16, and optionally "tokens" [sequences, ctx]
// I64, the same in every split; and config.json beside them (n_tokens,
// cache_ctx_len, batch_size, n_splits, model_name, the dataset). l0 reports
// the cache as one [sequence, position, feature] float16 array over the
// latents 0 to the last split's end: the vectors are sequences × ctx, and
// the L0 per position comes with it, as with -positions (-skip-positions N
// leaves the first N positions out). One split file alone is an input
// too: a safetensors file holding "locations" and "activations", read
// without -key, is reported over its own latents (end − start + 1
// features, named by its file name); -key reads one of its tensors as
// any safetensors tensor. A directory of hookpoint directories is an error
// that lists them.
//
// The entries count exactly as the dense array's elements would (the same
// numbers, and byte for byte the same state and sparsity file, as the
// dense float16 array with -positions), by the run's rule: -threshold and
// -abs-threshold apply to the float16 activations (delphi stores only
// those with |x| > 1e-5; the others are zeros of the dense array). The
// sequences are the rows of tokens; a cache saved without tokens takes
// them from config.json as delphi's LatentCache.run caches them, (n_tokens
// // cache_ctx_len // batch_size) × batch_size sequences of cache_ctx_len
// positions, and its report says so; with neither, it is an error (write
// n_tokens, cache_ctx_len and batch_size in a config.json beside the
// splits). A cache without tokens may have up to 65,536 positions (its
// counters are paid for by a claim, not by bytes), and any cache up to
// 134,217,728 latents (2^27; 2^26 on 32-bit machines).
//
// In -json a cache's "format" is "delphi", its "shape" [sequences, ctx,
// latents] and its "dtype" "F16"; "positions" and "l0_by_position" are
// there as with -positions; and "delphi" holds its "splits", "entries",
// "locations_dtype" ("U16", "U32", or "U16 and U32"), "tokens" (whether
// the splits hold them) and "sequences_from" ("tokens", or "config.json"
// for a cache saved without tokens).
//
// A cache joins a total as any input: with a float16 array of its
// positions and features read with -positions, or another cache of them
// (a state holds no positions: a total with one does not take a cache, as
// it does not take a -positions array).
//
// -exclude-tokens reads a cache's token ids from its tokens (the first
// split's; counting checks that every split holds the same): the entries
// at a vector whose token is excluded are left out, and its vector is not
// counted, in every statistic, as for the dense array read with -positions
// -tokens (the same numbers, and byte for byte the same state, sparsity
// and -feature-stats files). A cache saved without tokens is an error with
// the flag; -tokens and -tokens-key are errors with a cache (its ids are
// its own). -feature-stats (no -positions needed) counts a cache per
// sequence; -json then gives "sequences" (and with a mask
// "excluded_vectors"), as for arrays. Both work with -total, -save,
// -sparsity, -skip-positions and -j, the ranges of sequences counted
// apart and merged.
// Its splits are read at offsets, with read(2) in batches of 256 KiB (that
// stay in a core's cache from the copy to the count), or with -mmap in
// mapped windows, and counted by ranges of sequences, in parallel: a range
// is found in each split by a binary search of its sorted locations.
//
// A bad cache is an error that names the directory, and the split file,
// the entry (its index and its sequence, position and latent) or the
// tensors at fault; exit status 1, and no total or -save or -sparsity file
// written: a relative latent past its split's end; locations and
// activations of different lengths, or of other dtypes or shapes; a gap or
// an overlap between splits, or splits that do not start at latent 0; a
// number of splits other than config.json's n_splits; a sequence past
// tokens' rows (or config.json's sequences); a position past ctx; splits
// whose tokens differ, or that hold tokens and not; a split file shorter
// than its header says. delphi writes a split's entries in
// torch.nonzero's order (by sequence, then position, then latent), each
// once; l0 takes them in that order only: an entry given twice (it would
// count twice, and could make a density above 1) or out of that order is
// an error that names both entries.
//
// # Many shards, one report
//
// -total reports all the inputs as one dataset: they must agree on the
// element type, the components (or positions) and the features; the rule
// of counting is the run's. Counts of different element types are not
// merged (metric.Merge would not, and the state format holds one type):
// such an input does not join the total, and is a bad input. With -per-file
// each input's report comes first, then the total's.
//
// A bad input fails the total: each bad input is named on stderr, no
// total is reported and no -save or -sparsity file written, and the exit
// status is 1; a total that silently left a shard out would be a wrong
// number. After the first bad input l0 stops counting, but still opens
// every other input and names each one whose header or size is bad.
//
// -save FILE writes the total's state in metric's FeatureActivity binary
// format (all the counts: the L0, density, dead and dense features follow),
// and state files are inputs: count shards anywhere, one process each, and
// merge with l0 -total *.l0. A state holds no positions: -positions does
// not take one. A state of 0 vectors (a job that saved before its first
// batch) is reported as such, 0 vectors and no L0 (null in -json, with
// dead, dense and the histogram), and joins a total, which it leaves as it
// was; -sparsity of no vectors is an error (no density). A state takes the
// bounds an array takes (at most 65,536 components of no features).
// -sparsity FILE writes SAELens' sparsity.safetensors: the tensor
// "sparsity", F32, log10(density + 1e-10) per feature, of shape [features]
// or [components, features]. Both describe all the inputs, with or without
// -total, and are written whole or not at all (a temporary file renamed
// over the file, or over the file a symbolic link names; a dangling link
// is written through, and the file it names created, as the shell's >
// does); a device or a named pipe (-save /dev/stdout) is written in place.
// A new file's mode is 0666 less the umask, as os.Create makes it; a file
// written over keeps its mode (its owner becomes the writer).
//
// An output never destroys an input: before anything is read, l0 refuses
// (a command-line error, exit status 2, naming both) an output that is one
// of the inputs, by its name or through a symbolic or hard link
// (os.SameFile) or is the -tokens file, and two of -save, -sparsity and
// -feature-stats that name one file; the exception
// is -save over an input state, l0 -total -save acc.l0 acc.l0 new.npy,
// which accumulates: the state is read before the new one replaces it. It
// also refuses an output that exists, is a regular file that is not empty,
// and is not of the kind it writes there (an l0 state for -save, a
// safetensors file of the one tensor "sparsity" for -sparsity, one of the
// four tensors of -feature-stats for -feature-stats): the
// mistake of a shell pattern, l0 -total -sparsity shard-*.npy, which puts
// shard-0.npy after -sparsity. Such a file must be removed first.
//
// # Dead features
//
// A feature is dead, by default, when it never fired in the vectors
// counted. -dead-after N counts it dead when more than N vectors came after
// the last vector it fired in, as training code does (EleutherAI
// sparsify's dead_feature_threshold, 10,000,000 tokens; N from 0 to
// 2^63 − 1, a whole number). The count is exact, per vector, in the order
// of the rows: with -total the inputs come in the order given (a then b is
// not b then a), and a file split into ranges of rows (-j) merges them in
// order, so that -j changes neither the report nor the -save state, which
// carries each feature's vectors since it fired (a state saved by an
// earlier l0, of version 1, does not say: a feature that fired in it
// counts as fired in its last vector). The JSON line gives "dead_after":
// N when -dead-after is given, and the text report says "not fired in the
// last N vectors". A delphi cache's vectors are its tokens, in (sequence,
// position) order across its files: l0 keeps per latent the last token
// in which an entry of it counted, so its numbers are exactly those of the
// dense [sequences, positions, latents] array of the same activations
// (the kept tokens alone with -exclude-tokens). l0 keeps the vectors since
// each feature fired only when an output needs them (-dead-after,
// -feature-stats, -save): they cost an update a walk of its batch, and a
// delphi cache the general loop over its entries instead of the fastest.
//
// # Errors, limits, memory
//
// An input l0 cannot read is an error on stderr that names it; without
// -total the other inputs are still reported, and the exit status is 1.
// A name (of a file, of a tensor) holding control characters or bytes that
// are not UTF-8, or starting with a double quote, is quoted in messages
// and text reports as Go quotes strings ("a\nb", "a\xffb"), so that
// each stays one line and shows the name's bytes. In -json, "file" is the
// name with each byte that is not UTF-8 as U+FFFD (JSON strings are
// UTF-8), and then "file_bytes" holds the name's bytes in base64, from
// which it is recovered exactly (base64.b64decode in Python); a total's
// "files_bytes" so lists every input's name when one is not UTF-8. A
// threshold or -dense of -0 is 0.
//
// Work and memory follow the bytes a file holds, not the shape its header
// claims: rows of no bytes (shape (2^62, 0)) are counted at once; a
// regular file's size is checked against its header before anything is
// sized by the shape; a stream is read a row before anything is sized by
// its shape, and costs at most k × the bytes read + 4 MiB, k = 26 for a
// 1-byte dtype of one component (8 for float32: the counters are 8 bytes a
// feature, the vectors since each fired 8 more, and the report takes a
// copy), up to 50 (109 with -json) when each component has one 1-byte
// feature, whose per-component values then dominate. Counting into a
// total, each worker keeps one set of counters, 16 bytes per (component,
// feature) with the vectors since each fired, 17 where rows are long (a
// byte of pending count in front of each), and one buffer (or mapped
// window), and the total merges them into one (with no copy) and takes one
// more to report: the peak is about 8 MiB + 2 MiB (8 mapped) + 17 bytes per feature
// per worker, + 8 bytes per feature. A state file is read straight into a
// worker's counters, 128 KiB at a time, never whole; a worker whose
// counters already hold counts reads it into a new set, merged and
// dropped, and holds two sets while it does. A state from a stream is held
// whole first (its bytes must bear out its header before counters of its
// size are made).
//
// A delphi cache costs, per worker, its counters (8 bytes per latent and
// per position), 1 MiB of counts for uint16 locations, a 256 KiB buffer of
// entries, and two buffers of 256 KiB of tokens to compare (at least a
// sequence's each); with -exclude-tokens a keep mask of a byte per vector
// of the range of sequences it counts (an eighth of their tokens' bytes,
// which count towards the range's size) and a buffer of 256 KiB of
// tokens; with -feature-stats or a mask, 8 bytes more per latent, 8 per
// latent of its widest split of uint32 locations (or with
// -skip-positions), and 512 KiB for uint16 locations.
//
// A 3-D array may have up to 16,777,216 components or positions
// (metric.MaxComponents), and up to 65,536 when its vectors have no
// features (no bytes pay for their values); a top-k pair of no entries (k
// = 0) one component, or up to 65,536 (component, feature) pairs, whose
// counters no bytes pay for either; and any top-k pair up to 134,217,728
// (2^27; 2^26 on 32-bit machines) components × -features D, for the same
// reason (1 GiB of counters a copy, 8 times the widest SAEs published).
// The text report lists the per-component values of up to 16 components,
// and their range (min, mean, max) for more; -json lists every one. In
// -json an infinite -threshold is the string "inf" or "-inf"; -threshold
// 1e400 is inf, as Python's float() reads it. A feature counted in more
// vectors than there are (a top-k index repeated within a vector, which
// counts twice) has a density above 1: the histogram counts it apart, in
// "> 0.0" (-json's "above_one"), not in [-0.5, 0.0].
package main
