package input

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/sparsekit/l0/internal/rows"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/internal/window"
)

// delphi latent caches: l0 DIR, or l0 DIR/{start}_{end}.safetensors.
//
// EleutherAI's delphi caches an SAE's latents per hookpoint as a directory
// of splits of the latents, {start}_{end}.safetensors (end inclusive,
// torch.linspace(0, width, n_splits + 1) apart), each holding
//
//	locations    [n, 3] U16 or U32: (sequence, position, latent − start)
//	activations  [n] F16: the entries' values (delphi keeps |x| > 1e-5)
//	tokens       [sequences, ctx] I64: the same in every split (optional)
//
// and config.json beside them (n_tokens, cache_ctx_len, batch_size,
// n_splits, model_name, the dataset). l0 reads a directory as one
// [sequence, position, feature] array of float16 over latents [0, the last
// end], and one split file alone as such an array over its own latents
// (features end − start + 1): its L0 per position comes with it, as with
// -positions. The vectors are sequences × ctx: tokens' shape, or without
// tokens what delphi's LatentCache.run caches, (n_tokens // cache_ctx_len
// // batch_size) × batch_size × cache_ctx_len from config.json.
//
// delphi writes a split's entries in torch.nonzero's order (by sequence,
// then position, then latent), each once. l0 reads them in that order and
// refuses a split whose entries are not in it: a duplicate entry (which
// would count twice) or an unsorted split is an error naming the file and
// the entry. Every other flaw is an error naming the file or the
// directory: a latent past its split's end, a sequence past tokens' rows
// (or the config's), a position past ctx, locations and activations of
// different lengths, a gap or an overlap between splits, splits whose
// tokens differ.
//
// The work is split by sequences: a range of sequences is found in each
// split by a binary search of its sorted locations, and counted as the
// dense batch of those sequences would be, so that ranges are counted
// apart, by several workers, each a batch of whole vectors.

// Delphi is the format of a delphi latent cache (a directory or a split).
const Delphi = "delphi"

// maxConfigBytes bounds the config.json l0 reads: delphi's is a few hundred
// bytes.
const maxConfigBytes = 1 << 20

// maxNoTokenPositions bounds the positions of a cache without tokens, whose
// ctx only config.json claims (cache_ctx_len): each costs 8 bytes of
// counters per worker, which no bytes of the cache pay for. delphi's
// uint16 locations hold positions below 2^16 in any case.
const maxNoTokenPositions = 1 << 16

// delphiBatchBytes bounds the bytes of entries read and counted at once:
// read(2) copies them into a core's L2 cache, where they are counted (a
// buffer of 2 MiB left them in L3, and the count waited on its loads).
const delphiBatchBytes = 256 << 10

// maxLatent bounds the latents a split's name may give, far above any
// width l0 counts (MaxTopKCounters), so that no sum of them overflows.
const maxLatent = 1 << 62

// delphiConfig is what l0 reads of delphi's config.json.
type delphiConfig struct {
	NTokens     json.Number `json:"n_tokens"`
	CacheCtxLen json.Number `json:"cache_ctx_len"`
	BatchSize   json.Number `json:"batch_size"`
	NSplits     json.Number `json:"n_splits"`
	ModelName   string      `json:"model_name"`
}

// A Cache describes a delphi cache, as reports name it.
type Cache struct {
	Splits    int    // the split files
	Entries   int64  // the entries of all splits
	Locations string // the locations' dtype: "U16", "U32", or "U16 and U32"
	Tokens    bool   // the splits hold tokens
	// Sequences is where the sequences come from: "tokens", or
	// "config.json" (n_tokens // cache_ctx_len // batch_size × batch_size).
	Sequences string
}

// A delphiSplit is one {start}_{end}.safetensors file of a cache.
type delphiSplit struct {
	name        string // the file's name, as errors give it
	src         io.ReaderAt
	file        *os.File // nil: not opened here
	header      *safetensors.Header
	start, end  int64 // the latents, end inclusive
	base        int64 // the first feature of the split in the report
	locations   safetensors.Tensor
	activations safetensors.Tensor
	tokens      safetensors.Tensor // DType Invalid: none
	entries     int64
	wide        bool // uint32 locations
}

// locationBytes returns the bytes of an entry's location.
func (s *delphiSplit) locationBytes() int64 {
	if s.wide {
		return 12
	}
	return 6
}

func (s *delphiSplit) hasTokens() bool { return s.tokens.DType != safetensors.Invalid }

// delphiRows are a cache's splits, counted by ranges of sequences.
type delphiRows struct {
	in         *Input
	dir        string // the directory; "" for a split alone
	splits     []*delphiSplit
	sequences  int64
	ctx        int64 // positions in a sequence
	skip       int64 // the positions left out of each sequence
	tokens     bool
	counted    *[1 << 16]bool // the rule's decision for each float16
	entryBytes int64          // of every split: locations, activations
}

// parseSplitName reads a split's latents from its file name,
// {start}_{end}.safetensors in decimal.
func parseSplitName(base string) (start, end int64, ok bool) {
	stem, found := strings.CutSuffix(base, ".safetensors")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(stem, "_")
	if !found || !isDecimal(a) || !isDecimal(b) {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || end < start || end >= maxLatent {
		return 0, 0, false
	}
	return start, end, true
}

// looksLikeSplitName reports whether base has a split's form,
// {digits}_{digits}.safetensors, whatever its numbers.
func looksLikeSplitName(base string) bool {
	stem, found := strings.CutSuffix(base, ".safetensors")
	a, b, cut := strings.Cut(stem, "_")
	return found && cut && isDecimal(a) && isDecimal(b)
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isDelphiSplit reports whether a safetensors header is a delphi split's:
// it holds "locations" and "activations".
func isDelphiSplit(h *safetensors.Header) bool {
	_, l := h.Lookup("locations")
	_, a := h.Lookup("activations")
	return l && a
}

// openDelphiDir opens a directory as a delphi cache: its splits, in order
// of their latents, and its config.json.
func openDelphiDir(dir string, o Options) (*Input, error) {
	if err := delphiOptions(o); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, Pathless(err)
	}
	d := &delphiRows{dir: dir}
	in := &Input{Name: dir, rows: d, closer: d}
	var caches []string // subdirectories that hold splits: hookpoints
	badName := ""       // a split's name whose latents are out of range
	for _, e := range entries {
		start, end, ok := parseSplitName(e.Name())
		if !ok {
			if badName == "" && looksLikeSplitName(e.Name()) {
				badName = e.Name()
			}
			if e.Type()&(fs.ModeDir|fs.ModeSymlink) != 0 && len(caches) < maxListedTensors+1 && holdsSplits(filepath.Join(dir, e.Name())) {
				caches = append(caches, e.Name())
			}
			continue
		}
		d.splits = append(d.splits, &delphiSplit{name: e.Name(), start: start, end: end, base: start})
	}
	if len(d.splits) == 0 {
		if len(caches) > 0 {
			more := ""
			if len(caches) > maxListedTensors {
				caches, more = caches[:maxListedTensors], ", and more"
			}
			return nil, fmt.Errorf("is a directory of delphi latent caches, one per hookpoint: give one of %s%s", listNames(caches), more)
		}
		if badName != "" {
			return nil, fmt.Errorf("is a directory whose split %q names latents out of range: a delphi split is {start}_{end}.safetensors with start <= end < %d", badName, int64(maxLatent))
		}
		return nil, errors.New("is a directory, and holds no delphi latent cache split ({start}_{end}.safetensors)")
	}
	slices.SortFunc(d.splits, func(a, b *delphiSplit) int {
		if a.start != b.start {
			return cmpInt(a.start, b.start)
		}
		return cmpInt(a.end, b.end)
	})
	if first := d.splits[0]; first.start != 0 {
		return nil, fmt.Errorf("the splits start at latent %d (%s): latents 0 to %d have no split", first.start, DisplayName(first.name), first.start-1)
	}
	for i, s := range d.splits[1:] {
		prev := d.splits[i]
		switch {
		case s.start > prev.end+1:
			return nil, fmt.Errorf("a gap between the splits %s and %s: latents %d to %d have no split", DisplayName(prev.name), DisplayName(s.name), prev.end+1, s.start-1)
		case s.start <= prev.end:
			return nil, fmt.Errorf("the splits %s and %s overlap: latents %d to %d are in both", DisplayName(prev.name), DisplayName(s.name), s.start, min(prev.end, s.end))
		}
	}
	config, err := readDelphiConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	if n, ok, err := configInt(config, "n_splits", config.NSplits); err != nil {
		return nil, err
	} else if ok && n != int64(len(d.splits)) {
		return nil, fmt.Errorf("config.json says n_splits %d, and the directory holds %d splits (%s to %s): a split is missing or left over",
			n, len(d.splits), DisplayName(d.splits[0].name), DisplayName(d.splits[len(d.splits)-1].name))
	}
	for _, s := range d.splits {
		if err := s.open(filepath.Join(dir, s.name)); err != nil {
			d.Close()
			return nil, fmt.Errorf("%s: %w", DisplayName(s.name), Pathless(err))
		}
	}
	if err := d.setUp(in, config, o); err != nil {
		d.Close()
		return nil, err
	}
	return in, nil
}

// holdsSplits reports whether a directory holds a delphi split.
func holdsSplits(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if _, _, ok := parseSplitName(e.Name()); ok {
			return true
		}
	}
	return false
}

// openDelphiSplit opens one split file alone, whose header h has been read
// from ra: a cache of its latents, with the config.json beside it if there
// is one.
func (in *Input) openDelphiSplit(h *safetensors.Header, ra io.ReaderAt, o Options) error {
	if err := delphiOptions(o); err != nil {
		return err
	}
	if ra == nil {
		return errors.New("a delphi split (a safetensors file of locations and activations) is read at offsets, and this is a stream: save it to a file")
	}
	base := filepath.Base(in.Name)
	start, end, ok := parseSplitName(base)
	if !ok {
		return fmt.Errorf("a delphi split (it holds locations and activations) names its latents in its file name, {start}_{end}.safetensors, and %s does not: rename it, or read one tensor with -key", DisplayName(base))
	}
	s := &delphiSplit{name: base, src: ra, header: h, start: start, end: end}
	if err := s.checkTensors(); err != nil {
		return err
	}
	config, err := readDelphiConfig(filepath.Join(filepath.Dir(in.Name), "config.json"))
	if err != nil {
		return err
	}
	d := &delphiRows{splits: []*delphiSplit{s}}
	in.rows = d
	return d.setUp(in, config, o)
}

// delphiOptions refuses the flags that name tensors: a cache's are
// delphi's.
func delphiOptions(o Options) error {
	switch {
	case o.TopK.On():
		return errors.New("-sparse names the tensors of a top-k file; a delphi cache's are its locations and activations: give it without -sparse")
	case o.Keyed || o.Key != "":
		return errors.New("-key names the tensor of a file; a delphi cache's are its locations and activations: give it without -key")
	case o.TokensFile != "":
		return fmt.Errorf("-tokens %s gives the token ids of a .npy input; a delphi cache's are its tokens: give it without -tokens", DisplayName(o.TokensFile))
	case o.TokensKeyed:
		return errors.New("-tokens-key names the tensor of token ids of a safetensors file; a delphi cache's are its tokens: give it without -tokens-key")
	}
	return nil
}

// readDelphiConfig reads a cache's config.json; a cache without one has a
// zero config.
func readDelphiConfig(path string) (delphiConfig, error) {
	var c delphiConfig
	if err := regularFile(path); errors.Is(err, os.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return c, fmt.Errorf("config.json: %w", Pathless(err))
	}
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("config.json: %w", Pathless(err))
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	switch {
	case err != nil:
		return c, fmt.Errorf("config.json: %w", Pathless(err))
	case len(text) > maxConfigBytes:
		return c, fmt.Errorf("config.json: more than %d bytes: not delphi's", maxConfigBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config.json: not delphi's JSON object: %v", err)
	}
	return c, nil
}

// configInt returns a field of config.json as a positive integer, and
// whether it is there.
func configInt(c delphiConfig, field string, n json.Number) (int64, bool, error) {
	if n == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || v <= 0 {
		return 0, false, fmt.Errorf("config.json: %s is %s: want a positive integer", field, n)
	}
	return v, true, nil
}

// open opens a split's file, a regular file (a named pipe would block the
// open), and reads its header.
func (s *delphiSplit) open(path string) error {
	if err := regularFile(path); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	s.file, s.src = f, f
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return s.readHeader(info.Size())
}

// regularFile returns an error unless path is a regular file (links
// followed).
func regularFile(path string) error {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case !info.Mode().IsRegular():
		return errors.New("not a regular file")
	}
	return nil
}

// readHeader reads a split's safetensors header from its file of size
// bytes.
func (s *delphiSplit) readHeader(size int64) error {
	h, err := safetensors.ReadHeader(io.NewSectionReader(s.src, 0, size), size)
	if err != nil {
		return err
	}
	if !isDelphiSplit(h) {
		return fmt.Errorf("not a delphi split: it holds no tensors \"locations\" and \"activations\" (it holds %s)", listTensors(h))
	}
	s.header = h
	return s.checkTensors()
}

// checkTensors checks a split's tensors: locations [n, 3] U16 or U32,
// activations [n] F16, tokens [sequences, ctx] I64 if any.
func (s *delphiSplit) checkTensors() error {
	h := s.header
	s.locations, _ = h.Lookup("locations")
	s.activations, _ = h.Lookup("activations")
	l, a := s.locations, s.activations
	switch {
	case l.DType != safetensors.Uint16 && l.DType != safetensors.Uint32:
		return fmt.Errorf("the locations are %s %s: delphi writes U16 or U32", l.DType, l.ShapeString())
	case len(l.Shape) != 2 || l.Shape[1] != 3:
		return fmt.Errorf("the locations have the shape %s: delphi writes [entries, 3] (sequence, position, latent)", l.ShapeString())
	case a.DType != safetensors.Float16:
		return fmt.Errorf("the activations are %s %s: delphi writes F16", a.DType, a.ShapeString())
	case len(a.Shape) != 1:
		return fmt.Errorf("the activations have the shape %s: delphi writes [entries]", a.ShapeString())
	case a.Shape[0] != l.Shape[0]:
		return fmt.Errorf("%d locations and %d activations: each entry has one of each", l.Shape[0], a.Shape[0])
	}
	s.entries, s.wide = l.Shape[0], l.DType == safetensors.Uint32
	if t, ok := h.Lookup("tokens"); ok {
		if t.DType != safetensors.Int64 || len(t.Shape) != 2 {
			return fmt.Errorf("the tokens are %s %s: delphi writes I64 [sequences, ctx]", t.DType, t.ShapeString())
		}
		s.tokens = t
	}
	return nil
}

// setUp sets the cache's vectors and configuration from its splits'
// tokens, or config.json, and describes it.
func (d *delphiRows) setUp(in *Input, config delphiConfig, o Options) error {
	first := d.splits[0]
	d.in = in
	d.tokens = first.hasTokens()
	for _, s := range d.splits[1:] {
		switch {
		case s.hasTokens() != d.tokens:
			with, without := first, s
			if s.hasTokens() {
				with, without = s, first
			}
			return fmt.Errorf("%s holds tokens and %s does not: the splits of one cache hold the same tokens", DisplayName(with.name), DisplayName(without.name))
		case d.tokens && !slices.Equal(s.tokens.Shape, first.tokens.Shape):
			return fmt.Errorf("the tokens of %s are %s, those of %s %s: the splits of one cache hold the same tokens", DisplayName(s.name), s.tokens.ShapeString(), DisplayName(first.name), first.tokens.ShapeString())
		}
	}
	var vectorsFrom string
	if d.tokens {
		d.sequences, d.ctx = first.tokens.Shape[0], first.tokens.Shape[1]
		vectorsFrom = fmt.Sprintf("tokens %s I64", first.tokens.ShapeString())
	} else {
		nTokens, ok1, err := configInt(config, "n_tokens", config.NTokens)
		if err != nil {
			return err
		}
		ctx, ok2, err := configInt(config, "cache_ctx_len", config.CacheCtxLen)
		if err != nil {
			return err
		}
		batch, ok3, err := configInt(config, "batch_size", config.BatchSize)
		if err != nil {
			return err
		}
		if !ok1 || !ok2 || !ok3 {
			return errors.New("the cache holds no tokens (saved without them), and no config.json beside it gives n_tokens, cache_ctx_len and batch_size: l0 cannot tell its vectors (sequences × ctx); write them in config.json as delphi does")
		}
		if ctx > maxNoTokenPositions {
			return fmt.Errorf("config.json: cache_ctx_len %d: a cache without tokens may have at most %d positions", ctx, maxNoTokenPositions)
		}
		d.ctx, d.sequences = ctx, nTokens/ctx/batch*batch
		vectorsFrom = fmt.Sprintf("no tokens; sequences from config.json as delphi caches them: (n_tokens %d // cache_ctx_len %d // batch_size %d) × %d = %d", nTokens, ctx, batch, batch, d.sequences)
	}
	switch {
	case d.sequences == 0:
		return fmt.Errorf("the cache has no sequences (%s): its L0 is undefined", vectorsFrom)
	case d.ctx == 0:
		return fmt.Errorf("the cache has sequences of no positions (%s): its L0 is undefined", vectorsFrom)
	case d.ctx > MaxTopKCounters:
		return fmt.Errorf("the cache has sequences of %d positions; l0 takes at most %d", d.ctx, MaxTopKCounters)
	case d.sequences > math.MaxInt64/d.ctx:
		return fmt.Errorf("the cache has %d sequences × %d positions: more vectors than l0 counts", d.sequences, d.ctx)
	case int64(o.Skip) >= d.ctx:
		return fmt.Errorf("-skip-positions %d leaves none of the %d positions of the cache", o.Skip, d.ctx)
	}
	d.skip = int64(o.Skip)
	if len(o.Exclude) > 0 && !d.tokens {
		return fmt.Errorf("-exclude-tokens needs the token id of each vector, and the cache was saved without tokens (%s): l0 cannot tell which vectors to leave out", vectorsFrom)
	}
	last := d.splits[len(d.splits)-1]
	features := last.end - d.splits[0].base + 1 // below 2^62 + 1: parseSplitName
	if len(d.splits) == 1 && d.dir == "" {
		features = last.end - last.start + 1
	}
	if features > MaxTopKCounters {
		return fmt.Errorf("the cache's latents %d to %d are %d features; l0 counts at most %d", d.splits[0].start, last.end, features, MaxTopKCounters)
	}
	// The bytes counting reads: the entries, and the tokens it compares.
	var data, entries int64
	for _, s := range d.splits {
		entries += s.entries
		data += s.locations.Bytes() + s.activations.Bytes()
		if len(d.splits) > 1 {
			data += s.tokens.Bytes()
		}
	}
	if len(o.Exclude) > 0 {
		// The keep mask is the first split's tokens: read for it alone,
		// or compared with the others' already.
		in.tokens = &tokenSource{
			what: DisplayName(first.name) + ` (its tensor "tokens")`, src: first.src, offset: first.header.DataOffset() + first.tokens.Begin,
			size: 8, signed: true, perRow: d.ctx, exclude: newExcludeSet(o.Exclude),
		}
		if len(d.splits) == 1 {
			data += first.tokens.Bytes()
		}
	}
	d.entryBytes = data
	table, err := tally.Float16Counted(o.Rule)
	if err != nil {
		return err
	}
	d.counted = table
	in.Format, in.DType = Delphi, "F16"
	in.Shape = []int64{d.sequences, d.ctx, features}
	in.DataBytes = data
	in.Config = tally.Config{Elem: tally.Float16, Features: int(features), Positions: int(d.ctx - d.skip), Skip: int(d.skip), Sequences: o.Sequences || len(o.Exclude) > 0}
	what := fmt.Sprintf("%d splits (%s to %s)", len(d.splits), DisplayName(d.splits[0].name), DisplayName(last.name))
	if len(d.splits) == 1 {
		what = "1 split " + DisplayName(first.name)
	}
	locations := "U16"
	for _, s := range d.splits {
		if s.wide {
			locations = "U32"
			if !first.wide {
				locations = "U16 and U32"
			}
			break
		}
	}
	in.Describe = fmt.Sprintf("%s float16 (F16), delphi latent cache: %s, %d entries, locations %s; %s", ShapeOf(in.Shape), what, entries, locations, vectorsFrom)
	in.Cache = &Cache{Splits: len(d.splits), Entries: entries, Locations: locations, Tokens: d.tokens, Sequences: "tokens"}
	if !d.tokens {
		in.Cache.Sequences = "config.json"
	}
	return nil
}

// Tokens returns the tokens of the sequences [from, to) of a cache that
// holds tokens, row-major ([to − from, ctx]), from its first split (every
// split holds the same, which counting checks), in buf if it is large
// enough; (nil, nil) for a cache without tokens, or an input that is not a
// cache.
func (in *Input) Tokens(from, to int64, buf []int64) ([]int64, error) {
	d, ok := in.rows.(*delphiRows)
	if !ok || !d.tokens {
		return nil, nil
	}
	if from < 0 || to < from || to > d.sequences {
		return nil, fmt.Errorf("tokens of sequences [%d, %d) of %d", from, to, d.sequences)
	}
	return d.readTokens(d.splits[0], from, to, buf)
}

// HasTokens reports whether the input is a delphi cache that holds tokens.
func (in *Input) HasTokens() bool {
	d, ok := in.rows.(*delphiRows)
	return ok && d.tokens
}

// readTokens reads the tokens of the sequences [from, to) of a split.
func (d *delphiRows) readTokens(s *delphiSplit, from, to int64, buf []int64) ([]int64, error) {
	n := (to - from) * d.ctx
	if int64(cap(buf)) < n {
		buf = make([]int64, n)
	}
	buf = buf[:n]
	b := make([]byte, 8*n)
	if err := s.readAt(b, s.tokens, from*d.ctx*8); err != nil {
		return nil, err
	}
	for i := range buf {
		buf[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return buf, nil
}

// Close closes the split files a directory opened.
func (d *delphiRows) Close() error {
	for _, s := range d.splits {
		if s.file != nil {
			s.file.Close()
			s.file = nil
		}
	}
	return nil
}

// readAt reads len(p) bytes of tensor t from byte off of its data.
func (s *delphiSplit) readAt(p []byte, t safetensors.Tensor, off int64) error {
	_, err := s.src.ReadAt(p, s.header.DataOffset()+t.Begin+off)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s: %w: it ends before its tensors' bytes", DisplayName(s.name), window.ErrChanged)
		}
		return fmt.Errorf("%s: %w", DisplayName(s.name), err)
	}
	return nil
}

// span: the rows are the sequences, and their bytes the cache's on
// average (at least 1), so that ranges of sequences hold about as many
// bytes as the ranges of an array. A cache of more sequences than bytes
// (config.json's claim, without tokens) is counted whole: its ranges would
// follow the claim, not the bytes.
func (d *delphiRows) span() (int64, int64, bool) {
	rowBytes := max(1, (d.entryBytes+d.sequences-1)/d.sequences)
	return d.sequences, rowBytes, d.sequences <= d.entryBytes
}

// An entry's location.
type location struct{ sequence, position, latent uint64 }

func (l location) String() string {
	return fmt.Sprintf("(sequence %d, position %d, latent %d)", l.sequence, l.position, l.latent)
}

func (l location) less(m location) bool {
	if l.sequence != m.sequence {
		return l.sequence < m.sequence
	}
	if l.position != m.position {
		return l.position < m.position
	}
	return l.latent < m.latent
}

// location returns entry i of a batch of locations in the machine's byte
// order (rows.ToHost).
func (s *delphiSplit) location(b []byte, i int64) location {
	if s.wide {
		e := rows.As[uint32](b)[3*i:]
		return location{uint64(e[0]), uint64(e[1]), uint64(e[2])}
	}
	e := rows.As[uint16](b)[3*i:]
	return location{uint64(e[0]), uint64(e[1]), uint64(e[2])}
}

// readLocation reads entry i's location from the file.
func (s *delphiSplit) readLocation(i int64) (location, error) {
	var b [3]uint32 // aligned for either width
	n := s.locationBytes()
	p := unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 12)[:n]
	if err := s.readAt(p, s.locations, i*n); err != nil {
		return location{}, err
	}
	rows.ToHost(p, int(n/3))
	return s.location(p, 0), nil
}

// lowerBound returns the first entry of the split whose sequence is at
// least seq, by a binary search of its locations (sorted, if the split is
// delphi's; counting checks that it is).
func (s *delphiSplit) lowerBound(seq, sequences int64) (int64, error) {
	switch {
	case seq <= 0:
		return 0, nil
	case seq >= sequences:
		return s.entries, nil
	}
	lo, hi := int64(0), s.entries
	for lo < hi {
		mid := lo + (hi-lo)/2
		l, err := s.readLocation(mid)
		if err != nil {
			return 0, err
		}
		if l.sequence < uint64(seq) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// entryError is an error of an entry of a split, naming the file.
func (s *delphiSplit) entryError(i int64, l location, format string, args ...any) error {
	return fmt.Errorf("%s: entry %d %s: %s", DisplayName(s.name), i, l, fmt.Sprintf(format, args...))
}

// delphiScratch is a worker's counts of a range of sequences of a cache.
type delphiScratch struct {
	other               *window.Reader // the windows read beside the worker's
	features, positions []uint64
	// The counts of uint16 locations, indexed by their latent and position
	// as they are (no bounds to check): added to features and positions
	// after each split.
	latents16, positions16 *[1 << 16]uint64
	// With per-sequence counts (Config.Sequences): fired, per feature, the
	// range's sequences it fired in at a kept vector; kept, per position
	// counted, the vectors the token mask keeps (nil without one); stamps,
	// per latent of a split, the last sequence it fired in, plus one (0:
	// none), cleared after each split; and of uint16 locations fired16,
	// indexed as latents16: per latent the stamp << 32 | the sequences
	// fired (one load and one store an entry).
	fired   []uint64
	kept    []int64
	stamps  []uint64
	fired16 *[1 << 16]uint64
	// With ReadConfig.SinceFired, last is per feature the vector (of the
	// range's counted vectors, (sequence − from) × (ctx − skip) + position
	// − skip, plus one; 0: none) of its last entry that counted, and since
	// the vectors after it (sinceFired); rank the kept vectors up to each
	// vector, with a token mask.
	last  []uint64
	since []int64
	rank  []int64
}

// count counts the sequences [from, to) of every split, as the dense batch
// [to − from, ctx, features] would be counted, and checks their entries
// and tokens on the way.
func (d *delphiRows) count(w *Worker, from, to int64, get func() (tally.Tally, error)) error {
	c := d.in.Config
	x := &w.delphi
	x.features = zeroed(x.features, c.Features)
	x.positions = zeroed(x.positions, int(d.ctx))
	var sc *seqCounts
	if c.Sequences {
		sc = &seqCounts{}
		x.fired = zeroed(x.fired, c.Features)
		if d.in.tokens != nil {
			keep, err := d.keep(w, from, to)
			if err != nil {
				return err
			}
			sc.keep = keep
			x.kept = keptByPosition(x.kept, keep, int(d.ctx), int(d.skip))
		}
	}
	if w.c.SinceFired {
		x.last = zeroed(x.last, c.Features)
	}
	for _, s := range d.splits {
		if err := d.countSplit(w, s, from, to, sc); err != nil {
			return err
		}
	}
	var since []int64
	if w.c.SinceFired {
		var keep []bool
		if sc != nil {
			keep = sc.keep
		}
		since = d.sinceFired(x, to-from, keep)
	}
	if d.tokens && len(d.splits) > 1 {
		if err := d.compareTokens(w, from, to); err != nil {
			return err
		}
	}
	t, err := get()
	if err != nil {
		return err
	}
	adder, ok := t.(tally.CountsAdder)
	if !ok {
		return fmt.Errorf("a tally of %s takes no counts", c.Describe())
	}
	if sc == nil {
		return adder.AddCounts(to-from, x.features, x.positions[d.skip:], since)
	}
	var kept []int64
	if sc.keep != nil {
		kept = x.kept
	}
	return adder.AddSequenceCounts(to-from, x.features, x.fired, x.positions[d.skip:], kept, since)
}

// sinceFired returns, per feature, the vectors of a range of rows
// sequences counted after the last one in which it fired (x.last): the
// kept vectors alone with a token mask keep (every one without), as the
// dense batch of those sequences would count them.
func (d *delphiRows) sinceFired(x *delphiScratch, rows int64, keep []bool) []int64 {
	per := d.ctx - d.skip
	vectors := rows * per
	if keep != nil {
		// rank[v]: the kept vectors among the counted vectors 0 to v.
		if int64(cap(x.rank)) < vectors {
			x.rank = make([]int64, vectors)
		}
		x.rank = x.rank[:vectors]
		n := int64(0)
		for s := range rows {
			for p := range per {
				if keep[s*d.ctx+d.skip+p] {
					n++
				}
				x.rank[s*per+p] = n
			}
		}
		vectors = n
	}
	if cap(x.since) < len(x.last) {
		x.since = make([]int64, len(x.last))
	}
	x.since = x.since[:len(x.last)]
	for f, l := range x.last {
		switch {
		case l == 0:
			x.since[f] = vectors
		case keep != nil:
			x.since[f] = vectors - x.rank[l-1]
		default:
			x.since[f] = vectors - int64(l)
		}
	}
	return x.since
}

// keep returns the keep mask of the sequences [from, to), a byte a
// vector, in the worker's buffer: their tokens read a window of sequences
// at a time (the mask is an eighth of the tokens' bytes).
func (d *delphiRows) keep(w *Worker, from, to int64) ([]bool, error) {
	n := (to - from) * d.ctx
	if int64(cap(w.keep)) < n {
		w.keep = make([]bool, n)
	}
	keep := w.keep[:n]
	step := max(1, delphiBatchBytes/(d.ctx*8))
	for row := from; row < to; row += step {
		m := min(step, to-row)
		w.beforeBatch(d.in)
		if err := d.in.tokens.fill(w, keep[(row-from)*d.ctx:(row-from+m)*d.ctx], row); err != nil {
			return nil, err
		}
		if len(d.splits) == 1 {
			w.read(m * d.ctx * 8) // the tokens: DataBytes holds them
		}
	}
	return keep, nil
}

// seqCounts is what a range counted per sequence needs beyond the counts:
// the keep mask of its vectors (nil: every one), (sequence − from) × ctx +
// position.
type seqCounts struct {
	keep []bool
}

// keptByPosition returns, in p, the vectors keep keeps at each position
// from skip on of sequences of ctx positions.
func keptByPosition(p []int64, keep []bool, ctx, skip int) []int64 {
	if cap(p) < ctx-skip {
		p = make([]int64, ctx-skip)
	}
	p = p[:ctx-skip]
	clear(p)
	for row := 0; row < len(keep); row += ctx {
		for i, k := range keep[row+skip : row+ctx] {
			if k {
				p[i]++
			}
		}
	}
	return p
}

// second returns the worker's second reader of windows, with the budget
// of read bytes (and the worker's mapped windows).
func (x *delphiScratch) second(w *Worker, read int) *window.Reader {
	if x.other == nil {
		x.other = window.NewReader(nil, read, w.c.MapBytes)
	}
	x.other.SetBudget(read, w.c.MapBytes)
	return x.other
}

// zeroed returns p as n zeroed counts, grown if need be.
func zeroed(p []uint64, n int) []uint64 {
	if cap(p) < n {
		return make([]uint64, n)
	}
	p = p[:n]
	clear(p)
	return p
}

// countSplit counts the entries of the sequences [from, to) of a split
// into the worker's counts of each feature and position.
func (d *delphiRows) countSplit(w *Worker, s *delphiSplit, from, to int64, sc *seqCounts) (err error) {
	lo, err := s.lowerBound(from, d.sequences)
	if err != nil {
		return err
	}
	hi, err := s.lowerBound(to, d.sequences)
	if err != nil {
		return err
	}
	if hi < lo {
		l, err := s.readLocation(hi)
		if err != nil {
			return err
		}
		return s.entryError(hi, l, "out of order: delphi writes a split's entries by sequence, then position, then latent")
	}
	c := entryChecks{from: uint64(from), to: uint64(to), ctx: uint64(d.ctx), skip: uint64(d.skip), width: uint64(s.end - s.start)}
	if lo > 0 {
		if c.prev, err = s.readLocation(lo - 1); err != nil {
			return err
		}
		c.havePrev = true
	}
	x := &w.delphi
	// The fast loops keep no vector per latent: a range whose vectors
	// since fired are wanted goes through the general ones.
	fast := !s.wide && c.skip == 0 && !w.c.SinceFired
	if fast && x.latents16 == nil {
		x.latents16, x.positions16 = new([1 << 16]uint64), new([1 << 16]uint64)
	}
	if fast && sc != nil && x.fired16 == nil {
		x.fired16 = new([1 << 16]uint64)
	}
	// The split's latents' counts: its relative latents index them.
	width := s.end - s.start + 1
	latents := x.features[s.base : s.base+width]
	if w.c.SinceFired {
		c.last = x.last[s.base : s.base+width]
	}
	var fired []uint64
	if sc != nil {
		fired = x.fired[s.base : s.base+width]
		c.keep = sc.keep
		if !fast {
			x.stamps = zeroed(x.stamps, int(width))
		}
	}
	if fast {
		defer func() {
			if err != nil {
				// The entries counted before the error: the next range
				// (of another input, maybe) starts from zero.
				clear(x.latents16[:])
				clear(x.positions16[:])
				if x.fired16 != nil {
					clear(x.fired16[:])
				}
			}
		}()
	}
	// Windows of entries read into a buffer that stays in a core's L2
	// cache from the copy to the count (the buffer's size if it is
	// smaller), or with -mmap mapped windows of the page cache: the
	// locations' windows, and in each the activations of its entries.
	locBytes := s.locationBytes()
	read := int(min(w.c.BufferBytes, delphiBatchBytes))
	w.windows.SetBudget(max(1, read*int(locBytes)/int(locBytes+2)), w.c.MapBytes)
	w.windows.Reset(s.src)
	acts := x.second(w, read)
	acts.Reset(s.src)
	offset := s.header.DataOffset()
	locLayout := window.Layout{Offset: offset + s.locations.Begin, RowBytes: locBytes, Rows: s.entries, ElemSize: int(locBytes / 3)}
	actLayout := window.Layout{Offset: offset + s.activations.Begin, RowBytes: 2, Rows: s.entries, ElemSize: 2}
	i := lo
	var flaw error
	err = w.windows.Rows(locLayout, lo, hi, func(n int64, locs []byte) error {
		done := int64(0)
		return acts.Rows(actLayout, i, i+n, func(m int64, a []byte) error {
			l := locs[done*locBytes : (done+m)*locBytes]
			w.beforeBatch(d.in)
			var bad int
			switch {
			case fast && sc != nil:
				bad = c.count16Sequences(rows.As[uint16](l), rows.As[uint16](a), d.counted, x.latents16, x.positions16, x.fired16)
			case fast:
				bad = c.count16(rows.As[uint16](l), rows.As[uint16](a), d.counted, x.latents16, x.positions16)
			case sc != nil && s.wide:
				bad = countEntriesSequences(&c, rows.As[uint32](l), rows.As[uint16](a), d.counted, latents, x.positions, fired, x.stamps)
			case sc != nil:
				bad = countEntriesSequences(&c, rows.As[uint16](l), rows.As[uint16](a), d.counted, latents, x.positions, fired, x.stamps)
			case s.wide:
				bad = countEntries(&c, rows.As[uint32](l), rows.As[uint16](a), d.counted, latents, x.positions)
			default:
				bad = countEntries(&c, rows.As[uint16](l), rows.As[uint16](a), d.counted, latents, x.positions)
			}
			if bad >= 0 {
				flaw = d.entryFlaw(s, &c, l, i, int64(bad))
				return flaw
			}
			c.prev, c.havePrev = s.location(l, m-1), true
			w.read(m * (locBytes + 2))
			i, done = i+m, done+m
			return nil
		})
	})
	if err != nil {
		if err != flaw {
			err = fmt.Errorf("%s: %w", DisplayName(s.name), err)
		}
		return err
	}
	if fast {
		// latents16 holds counts for the latents up to the split's width
		// only, and positions16 for positions below ctx: count16 checked
		// each entry's.
		for l, n := range x.latents16[:min(len(latents), 1<<16)] {
			latents[l] += n
		}
		for p, n := range x.positions16[:min(len(x.positions), 1<<16)] {
			x.positions[p] += n
		}
		clear(x.latents16[:min(len(latents), 1<<16)])
		clear(x.positions16[:min(len(x.positions), 1<<16)])
		if sc != nil {
			for l, n := range x.fired16[:min(len(fired), 1<<16)] {
				fired[l] += uint64(uint32(n))
			}
			clear(x.fired16[:min(len(fired), 1<<16)])
		}
	}
	return nil
}

// entryChecks are what a range's entries are checked against: the range
// of sequences, the positions, the split's relative latents (0 to width),
// and the entry before them.
type entryChecks struct {
	from, to, ctx, skip, width uint64
	prev                       location
	havePrev                   bool
	// keep, counting per sequence with a token mask, keeps the vector
	// (sequence − from) × ctx + position of each entry that counts.
	keep []bool
	// last, with ReadConfig.SinceFired, is per latent of the split the
	// counted vector (sequence − from) × (ctx − skip) + position − skip,
	// plus one, of its last entry that counted (entries come in order).
	last []uint64
}

// count16 checks and counts a batch of entries of uint16 locations (loc,
// three a entry) and their activations (float16 bits), with no positions
// skipped: each entry that counts (by the table counted) adds one to its
// latent's and its position's counts. It returns -1, or the index of the
// first entry that is not valid (out of its range, or not after the one
// before it), having counted those before it.
//
// The counts are arrays that any uint16 indexes, so that the loop checks
// no bounds; and each location is one key, sequence << 32 | position <<
// 16 | latent, plus one, which rises strictly from the first sequence's
// over valid entries: one comparison checks the order and the range's
// start.
func (c *entryChecks) count16(loc, acts []uint16, counted *[1 << 16]bool, latents, positions *[1 << 16]uint64) int {
	prev, last := c.keys16()
	// A key is valid when it is in (prev, last]: after the one before, of
	// a sequence below to; and its position and latent are when neither
	// ctx − 1 − position nor width − latent is negative. (A uint16
	// sequence is below 2^16, whatever to is.)
	ctx1, width := int64(c.ctx)-1, int64(c.width)
	loc = loc[:3*len(acts)]
	base := unsafe.Pointer(unsafe.SliceData(loc))
	for j, a := range acts {
		e := (*[3]uint16)(unsafe.Add(base, 6*j)) // j < len(loc) / 3
		seq, pos, lat := uint64(e[0]), uint64(e[1]), uint64(e[2])
		key := (seq<<32 | pos<<16 | lat) + 1
		if key-prev-1 >= last-prev || (ctx1-int64(pos))|(width-int64(lat)) < 0 {
			return j
		}
		prev = key
		if counted[a] {
			latents[lat]++
			positions[pos]++
		}
	}
	return -1
}

// keys16 returns the bounds of count16's keys: a valid key is in
// (prev, last], after the entry before (or at the range's first sequence)
// and of a sequence below c.to.
func (c *entryChecks) keys16() (prev, last uint64) {
	prev = min(c.from, 1<<16) << 32
	if c.havePrev {
		p := c.prev
		prev = max(prev, (p.sequence<<32|p.position<<16|p.latent)+1)
	}
	return prev, min(c.to, 1<<16) << 32
}

// count16Sequences is count16 counting per sequence too, and leaving out
// the entries of the vectors c.keep does not keep (every one is kept
// without a mask): fired[latent] is the sequence (plus 1) of the last
// entry of the latent that counted, << 32, | the sequences it counted in
// (at most the 2^16 sequences of uint16 locations), which the first entry
// of each sequence that counts raises by 1.
func (c *entryChecks) count16Sequences(loc, acts []uint16, counted *[1 << 16]bool, latents, positions, fired *[1 << 16]uint64) int {
	prev, last := c.keys16()
	ctx1, width := int64(c.ctx)-1, int64(c.width)
	keep, from, ctx := c.keep, c.from, c.ctx
	loc = loc[:3*len(acts)]
	base := unsafe.Pointer(unsafe.SliceData(loc))
	for j, a := range acts {
		e := (*[3]uint16)(unsafe.Add(base, 6*j)) // j < len(loc) / 3
		seq, pos, lat := uint64(e[0]), uint64(e[1]), uint64(e[2])
		key := (seq<<32 | pos<<16 | lat) + 1
		if key-prev-1 >= last-prev || (ctx1-int64(pos))|(width-int64(lat)) < 0 {
			return j
		}
		prev = key
		if counted[a] && (keep == nil || keep[(seq-from)*ctx+pos]) {
			latents[lat]++
			positions[pos]++
			id := uint32(seq) + 1
			f := fired[lat]
			hit := uint32(f>>32) ^ id // 0 where already counted in this sequence
			fired[lat] = uint64(id)<<32 | uint64(uint32(f)+(hit|-hit)>>31)
		}
	}
	return -1
}

// countEntriesSequences is countEntries counting per sequence too, as
// count16Sequences.
func countEntriesSequences[L uint16 | uint32](c *entryChecks, loc []L, acts []uint16, counted *[1 << 16]bool, latents, positions, fired, stamps []uint64) int {
	to, ctx, width, skip := c.to, c.ctx, c.width, c.skip
	prev, first := c.prev, !c.havePrev
	keep := c.keep
	loc = loc[:3*len(acts)]
	for j, a := range acts {
		e := (*[3]L)(loc[3*j:])
		l := location{uint64(e[0]), uint64(e[1]), uint64(e[2])}
		if !(first || prev.less(l)) || l.sequence < c.from || l.sequence >= to || l.position >= ctx || l.latent > width {
			return j
		}
		prev, first = l, false
		if l.position >= skip && counted[a] && (keep == nil || keep[(l.sequence-c.from)*ctx+l.position]) {
			latents[l.latent]++
			positions[l.position]++
			id := l.sequence + 1
			hit := stamps[l.latent] ^ id
			fired[l.latent] += (hit | -hit) >> 63
			stamps[l.latent] = id
			if c.last != nil {
				c.last[l.latent] = (l.sequence-c.from)*(ctx-skip) + l.position - skip + 1
			}
		}
	}
	return -1
}

// countEntries is count16 of any locations, and positions to skip: the
// counts are slices, their bounds checked.
func countEntries[L uint16 | uint32](c *entryChecks, loc []L, acts []uint16, counted *[1 << 16]bool, latents, positions []uint64) int {
	to, ctx, width, skip := c.to, c.ctx, c.width, c.skip
	prev, first := c.prev, !c.havePrev
	loc = loc[:3*len(acts)]
	for j, a := range acts {
		e := (*[3]L)(loc[3*j:])
		l := location{uint64(e[0]), uint64(e[1]), uint64(e[2])}
		if !(first || prev.less(l)) || l.sequence < c.from || l.sequence >= to || l.position >= ctx || l.latent > width {
			return j
		}
		prev, first = l, false
		if l.position >= skip && counted[a] {
			latents[l.latent]++
			positions[l.position]++
			if c.last != nil {
				c.last[l.latent] = (l.sequence-c.from)*(ctx-skip) + l.position - skip + 1
			}
		}
	}
	return -1
}

// entryFlaw says what is wrong with entry bad of a batch read from entry i
// of the split on, which the counting refused.
func (d *delphiRows) entryFlaw(s *delphiSplit, c *entryChecks, locs []byte, i, bad int64) error {
	l, at := s.location(locs, bad), i+bad
	prev, havePrev := c.prev, c.havePrev
	if bad > 0 {
		prev, havePrev = s.location(locs, bad-1), true
	}
	switch {
	case l.sequence >= uint64(d.sequences):
		return s.entryError(at, l, "sequence past the cache's %d sequences (%s)", d.sequences, d.sequencesFrom())
	case l.position >= c.ctx:
		return s.entryError(at, l, "position past the sequences' %d positions (0 to %d)", c.ctx, c.ctx-1)
	case l.latent > c.width:
		return s.entryError(at, l, "latent past the split's end: it holds latents %d to %d (relative 0 to %d)", s.start, s.end, c.width)
	case havePrev && prev == l:
		return s.entryError(at, l, "given twice (entries %d and %d): delphi writes each entry once", at-1, at)
	case havePrev && !prev.less(l):
		return s.entryError(at, l, "out of order after entry %d %s: delphi writes a split's entries by sequence, then position, then latent", at-1, prev)
	}
	return s.entryError(at, l, "out of order: delphi writes a split's entries by sequence, then position, then latent")
}

// sequencesFrom says where the number of sequences comes from.
func (d *delphiRows) sequencesFrom() string {
	if d.tokens {
		return "the tokens' rows"
	}
	return "from config.json"
}

// compareTokens checks that every split holds the first's tokens for the
// sequences [from, to).
func (d *delphiRows) compareTokens(w *Worker, from, to int64) error {
	rowBytes := d.ctx * 8
	read := int(min(w.c.BufferBytes, delphiBatchBytes))
	first := d.splits[0]
	other := w.delphi.second(w, read)
	layout := func(s *delphiSplit) window.Layout {
		return window.Layout{Offset: s.header.DataOffset() + s.tokens.Begin, RowBytes: rowBytes, Rows: d.sequences, ElemSize: 8}
	}
	w.windows.SetBudget(read, w.c.MapBytes)
	w.windows.Reset(first.src)
	var flaw error
	err := w.windows.Rows(layout(first), from, to, func(n int64, want []byte) error {
		row := from
		for _, s := range d.splits[1:] {
			other.Reset(s.src)
			done := int64(0)
			err := other.Rows(layout(s), row, row+n, func(m int64, got []byte) error {
				w.beforeBatch(d.in)
				if part := want[done*rowBytes : (done+m)*rowBytes]; !bytes.Equal(part, got) {
					at := firstDifference(part, got) / 8
					flaw = fmt.Errorf("the tokens of %s and %s differ at [%d, %d]: the splits of one cache hold the same tokens", DisplayName(first.name), DisplayName(s.name), row+done+at/d.ctx, at%d.ctx)
					return flaw
				}
				done += m
				return nil
			})
			if err != nil {
				if err != flaw {
					flaw = fmt.Errorf("%s: %w", DisplayName(s.name), err)
				}
				return flaw
			}
		}
		w.read(int64(len(d.splits)) * n * rowBytes)
		from += n
		return nil
	})
	if err != nil && err != flaw {
		err = fmt.Errorf("%s: %w", DisplayName(first.name), err) // first's tokens: they changed
	}
	return err
}

func firstDifference(a, b []byte) int64 {
	for i := range a {
		if a[i] != b[i] {
			return int64(i)
		}
	}
	return int64(len(a))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// listNames lists names, as messages show them.
func listNames(names []string) string {
	shown := make([]string, len(names))
	for i, n := range names {
		shown[i] = DisplayName(n)
	}
	return strings.Join(shown, ", ")
}
