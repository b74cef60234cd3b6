package input

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/rows"
	"github.com/sparsekit/l0/internal/safetensors"
)

// Token masks: -exclude-tokens ID[,ID...].
//
// The vectors whose token id is listed are left out of every statistic.
// The ids come from the input's tokens, one per vector ([batch, position]
// with -positions, else [batch]): a safetensors input's tensor -tokens-key
// names (default "tokens", when the file has one), beside the activations
// as OpenMOSS-style chunks keep it; for a .npy input, the array of
// -tokens FILE.npy. Each kind of input that holds tokens sets its Input's
// tokens to a tokenSource; a worker reads the ids of each batch of rows
// with the rows, at offsets, turns them into a keep mask of a byte a
// vector (tokenSource.keep), and hands it to the tally (AddMasked), whose
// metrics skip the runs of excluded vectors in their kernels.
//
// A delphi cache's tokenSource is its first split's `tokens` [sequences,
// ctx] (delphi.go's setUp): it fills the keep mask of a range of sequences
// a window at a time (fill), and drops the entries of the vectors left
// out.

// A tokenSource is the token ids of an input's vectors: an integer tensor
// read at offsets, perRow ids a row of the activations.
type tokenSource struct {
	what    string // as errors name it: `-tokens x.npy`, `the tensor "tokens"`
	src     io.ReaderAt
	offset  int64 // of the first id
	size    int   // bytes an id
	signed  bool
	perRow  int64
	exclude excludeSet
}

// excludeSet is the ids to leave out.
type excludeSet struct {
	ids []int64 // sorted
	// bits, when the largest id is below maxExcludeBits, has bit id set
	// for each id: one load decides an id, where a binary search of the
	// ids took 30 ns (a vocabulary of 2^18 ids is a bitmap of 32 KiB).
	bits []uint64
}

// maxExcludeBits bounds the bitmap of an excludeSet (2 MiB).
const maxExcludeBits = 1 << 24

func newExcludeSet(ids []int64) excludeSet {
	s := slices.Clone(ids)
	slices.Sort(s)
	e := excludeSet{ids: s}
	if len(s) > 0 && s[len(s)-1] < maxExcludeBits {
		e.bits = make([]uint64, s[len(s)-1]/64+1)
		for _, id := range s {
			e.bits[id/64] |= 1 << (id % 64)
		}
	}
	return e
}

// has reports whether id is excluded: a bit of the bitmap, or a scan of a
// few ids, a binary search of many.
func (s excludeSet) has(id int64) bool {
	if s.bits != nil {
		w := uint64(id) / 64 // a negative id is past the bitmap
		return w < uint64(len(s.bits)) && s.bits[w]>>(uint64(id)%64)&1 != 0
	}
	if len(s.ids) <= 8 {
		for _, e := range s.ids {
			if e == id {
				return true
			}
		}
		return false
	}
	_, found := slices.BinarySearch(s.ids, id)
	return found
}

// keep returns the keep mask of the n rows from row on, in the worker's
// buffer: one entry per id, false where the id is excluded.
func (t *tokenSource) keep(w *Worker, row, n int64) ([]bool, error) {
	count := n * t.perRow
	if int64(cap(w.keep)) < count {
		w.keep = make([]bool, count)
	}
	keep := w.keep[:count]
	return keep, t.fill(w, keep, row)
}

// fill sets keep, one entry per id of the rows from row on (len(keep) /
// perRow of them), false where the id is excluded, the ids read into the
// worker's buffer.
func (t *tokenSource) fill(w *Worker, keep []bool, row int64) error {
	bytes := int64(len(keep)) * int64(t.size)
	w.tokens = rows.Grow(w.tokens, bytes)
	b := rows.Bytes(w.tokens)[:bytes]
	if _, err := t.src.ReadAt(b, t.offset+row*t.perRow*int64(t.size)); err != nil {
		return changed(fmt.Errorf("reading the token ids of %s: %w", t.what, noEOF(err)))
	}
	if bits := t.exclude.bits; t.size == 8 && bits != nil {
		// The common case (int64 ids, delphi's and torch's) in a loop of
		// its own: a load and a bit an id. A negative id, or an unsigned
		// one past 2^63 - 1, is past the bitmap, as has decides.
		for i := range keep {
			v := binary.LittleEndian.Uint64(b[8*i:])
			w := v / 64
			keep[i] = w >= uint64(len(bits)) || bits[w]>>(v%64)&1 == 0
		}
		return nil
	}
	for i := range keep {
		keep[i] = !t.exclude.has(t.id(b[i*t.size:]))
	}
	return nil
}

// noEOF makes a short read of a regular file an unexpected EOF (the
// file's size bore out its header: it changed).
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// id returns the id at the start of b, as an int64; a uint64 past 2^63 - 1
// is -1, which no excluded id is.
func (t *tokenSource) id(b []byte) int64 {
	switch t.size {
	case 1:
		if t.signed {
			return int64(int8(b[0]))
		}
		return int64(b[0])
	case 2:
		v := binary.LittleEndian.Uint16(b)
		if t.signed {
			return int64(int16(v))
		}
		return int64(v)
	case 4:
		v := binary.LittleEndian.Uint32(b)
		if t.signed {
			return int64(int32(v))
		}
		return int64(v)
	}
	v := binary.LittleEndian.Uint64(b)
	if !t.signed && v > 1<<63-1 {
		return -1
	}
	return int64(v)
}

// tokensShape returns the shape of the ids an input's vectors need:
// [batch, position] with positions, else [batch].
func (in *Input) tokensShape() []int64 {
	if in.Config.Positions > 0 {
		return in.Shape[:2]
	}
	return in.Shape[:1]
}

// openTokens finds the token ids of an input checked by checkArray, for
// -exclude-tokens: an error for an input that has none, or ids whose shape
// is not its vectors'.
func (in *Input) openTokens(o Options) error {
	if in.src == nil {
		return errors.New("-exclude-tokens reads the token ids at offsets beside the activations, and this input is a stream: save it to a file")
	}
	switch in.Format {
	case NPY:
		if o.TokensFile == "" {
			return errors.New("-exclude-tokens needs the token id of each vector, and a .npy file holds one array: give them with -tokens FILE.npy")
		}
		return in.npyTokens(o)
	case Safetensors, TopK:
		if o.TokensFile != "" {
			return fmt.Errorf("-tokens %s gives the token ids of a .npy input; a safetensors input's are its tensor -tokens-key names", DisplayName(o.TokensFile))
		}
		return in.tensorTokens(o)
	}
	return fmt.Errorf("-exclude-tokens: a %s input holds no token ids", in.Format)
}

// npyTokens opens -tokens FILE.npy, an integer array of the input's
// vectors' shape.
func (in *Input) npyTokens(o Options) error {
	what := "-tokens " + DisplayName(o.TokensFile)
	f, err := os.Open(o.TokensFile)
	if err != nil {
		return fmt.Errorf("%s: %w", what, Pathless(err))
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = errors.New("not a regular file (the ids are read at offsets)")
	}
	var rd *npy.Reader
	if err == nil {
		rd, err = npy.Open(io.NewSectionReader(f, 0, info.Size()), info.Size())
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", what, Pathless(err))
	}
	h := rd.Header
	signed, ok := npyIntegers[h.DType]
	if !ok {
		f.Close()
		return fmt.Errorf("%s: the token ids are %s %s; want an integer dtype", what, h.DType.Name(), h.ShapeString())
	}
	if want := in.tokensShape(); !slices.Equal(h.Shape, want) {
		f.Close()
		return fmt.Errorf("%s: the token ids have the shape %s, the activations' vectors %s (of the activations %s)", what, h.ShapeString(), ShapeOf(want), ShapeOf(in.Shape))
	}
	in.tokens = &tokenSource{what: what, src: f, offset: h.DataOffset, size: h.DType.Size(), signed: signed, perRow: in.tokensPerRow(), exclude: newExcludeSet(o.Exclude)}
	in.tokensCloser = f
	return nil
}

// npyIntegers are the .npy dtypes of token ids, and whether each is
// signed.
var npyIntegers = map[npy.DType]bool{
	npy.Int8: true, npy.Int16: true, npy.Int32: true, npy.Int64: true,
	npy.Uint8: false, npy.Uint16: false, npy.Uint32: false, npy.Uint64: false,
}

// tensorTokens finds the token ids of a safetensors input: the tensor
// -tokens-key names, or "tokens".
func (in *Input) tensorTokens(o Options) error {
	h := in.header
	key := "tokens"
	if o.TokensKeyed {
		key = o.TokensKey
	}
	t, ok := h.Lookup(key)
	switch {
	case !ok && o.TokensKeyed:
		return fmt.Errorf("%w: no tensor %q (-tokens-key); the file holds %s", safetensors.ErrNotFound, key, listTensors(h))
	case !ok:
		return fmt.Errorf("-exclude-tokens needs the token id of each vector, and the file holds no tensor \"tokens\" (name another with -tokens-key); it holds %s", listTensors(h))
	case key == in.Tensor || in.Pair != nil && (key == in.Pair.Index || key == in.Pair.Values):
		return fmt.Errorf("the token ids %q are the activations' own tensor", key)
	case !IsIndexDType(t.DType):
		return fmt.Errorf("the token ids %s: want an integer dtype (%s)", t, IndexDTypes)
	}
	if want := in.tokensShape(); !slices.Equal(t.Shape, want) {
		return fmt.Errorf("the token ids %q have the shape %s, the activations' vectors %s (of the activations %s)", key, t.ShapeString(), ShapeOf(want), ShapeOf(in.Shape))
	}
	signed := t.DType == safetensors.Int8 || t.DType == safetensors.Int16 || t.DType == safetensors.Int32 || t.DType == safetensors.Int64
	in.tokens = &tokenSource{
		what: fmt.Sprintf("the tensor %q", key), src: in.src, offset: h.DataOffset() + t.Begin,
		size: t.DType.Size(), signed: signed, perRow: in.tokensPerRow(), exclude: newExcludeSet(o.Exclude),
	}
	return nil
}

// tokensPerRow returns the ids of a row of the activations: its positions
// (skipped ones too), or 1.
func (in *Input) tokensPerRow() int64 {
	if c := in.Config; c.Positions > 0 {
		return int64(c.Skip + c.Positions)
	}
	return 1
}
