// Package input is the input side of cmd/l0: it recognises an input's
// format by its first bytes, reads and checks its header, says what its
// counts are over (a tally.Config) and how its rows may be split, and
// counts a range of its rows into a tally.
//
// Each kind of input is a file here: a .npy array (npy.go), a safetensors
// tensor (safetensors.go), a top-k pair of safetensors tensors (topk.go),
// a FeatureActivity state (state.go), a delphi latent cache (delphi.go: a
// directory of splits, or one split). Each gives an Input and the reader of
// its rows (an Input's rows field); a new kind is a new file that does the
// same, and a case in OpenReader's recognition.
//
// Work and memory follow the bytes an input holds, never what its header
// claims: a regular file's size is checked against its header before
// anything is sized by the shape, and a stream's bytes are read before
// anything is sized by them.
package input

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/metric"
)

// Options are what the command line says about reading the inputs.
type Options struct {
	Key       string      // -key: the safetensors tensor to read
	Keyed     bool        // -key was given (a tensor may be named "")
	Positions bool        // a 3-D array is [batch, position, feature]
	Skip      int         // the positions left out of every row
	TopK      TopKKeys    // -sparse: the tensors of a top-k pair
	Features  int         // -features: the dense features of a top-k pair
	Rule      metric.Rule // the run's rule, which must suit the dtype
	// Exclude (-exclude-tokens) are the token ids whose vectors are left
	// out; the ids are the input's tensor TokensKey (-tokens-key; keyed:
	// given), "tokens" by default, or for a .npy input TokensFile's
	// (-tokens).
	Exclude     []int64
	TokensFile  string
	TokensKey   string
	TokensKeyed bool
	// Sequences (-feature-stats): count the per-sequence statistics of
	// inputs with positions.
	Sequences bool
}

// ruleFlag names the flag that set the rule of counting.
func (o Options) ruleFlag() string {
	if o.Rule.Abs() {
		return "-abs-threshold"
	}
	return "-threshold"
}

// The formats of an Input.
const (
	NPY         = "npy"
	Safetensors = "safetensors"
	State       = "state"
	TopK        = "topk"
)

// An Input is one input, opened and checked: what its header (or state)
// says, the configuration its counts take, and where its rows are.
type Input struct {
	Name   string
	Format string // NPY, Safetensors, State or TopK

	// What a report says of the array.
	Shape     []int64 // the array's shape; a state's [vectors, (components,) features]
	DType     string  // as the file spells it: "<f4", "BF16"; a state's element type
	Describe  string  // the text report's line on the array
	Tensor    string  // the safetensors tensor read
	Pair      *Pair   // a top-k pair's tensors
	Cache     *Cache  // a delphi cache's splits
	Config    tally.Config
	DataBytes int64 // the bytes of data the header describes

	rows   rowReader
	closer io.Closer
	// src is where a file of known size is read at offsets (nil for a
	// stream); header a safetensors input's header.
	src    io.ReaderAt
	header *safetensors.Header
	// tokens, with -exclude-tokens, are the ids of the vectors;
	// tokensCloser the -tokens file.
	tokens       *tokenSource
	tokensCloser io.Closer
}

// A rowReader counts the rows of one kind of input.
type rowReader interface {
	// span returns the rows and the bytes of a row; split says whether
	// ranges of them may be counted apart (a stream or a state is
	// counted whole).
	span() (rows, rowBytes int64, split bool)
	// count counts the rows [from, to) into the tally get returns; get is
	// called once the input's bytes bear out its shape, before the first
	// rows are added.
	count(w *Worker, from, to int64, get func() (tally.Tally, error)) error
}

// Span returns the input's rows and the bytes of a row; split says whether
// ranges of rows may be counted apart, by several workers (a stream or a
// state is counted whole: one range, all of it).
func (in *Input) Span() (rows, rowBytes int64, split bool) { return in.rows.span() }

// Count counts the rows [from, to) of the input (all of a stream or a
// state) with the worker's buffers into the tally get returns; get is
// called once the input's bytes bear out its shape, before the first rows
// are added.
func (in *Input) Count(w *Worker, from, to int64, get func() (tally.Tally, error)) error {
	return in.rows.count(w, from, to, get)
}

// Close releases the input's file, if it has one.
func (in *Input) Close() {
	if in.closer != nil {
		in.closer.Close()
		in.closer = nil
	}
	if in.tokensCloser != nil {
		in.tokensCloser.Close()
		in.tokensCloser = nil
	}
}

// Open opens the named file as an input. Only a regular file's size is
// trusted; pipes and devices are read as streams.
func Open(name string, o Options) (*Input, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, Pathless(err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Pathless(err)
	}
	size := int64(-1)
	switch {
	case info.IsDir():
		f.Close()
		return openDelphiDir(name, o)
	case info.Mode().IsRegular():
		size = info.Size()
	}
	var r io.Reader = f
	if size < 0 {
		r = struct{ io.Reader }{f} // not an io.ReaderAt: read in order
	}
	in, err := OpenReader(name, r, size, o)
	if err != nil {
		f.Close()
		return nil, Pathless(err)
	}
	in.closer = f
	return in, nil
}

// OpenReader reads the header of an input from r: size bytes from its
// first on, or -1 when the size is not known (a stream). When size is
// known r must also be an io.ReaderAt, from which the rows are read at
// offsets. Every problem with the header is an error; nothing is
// allocated from what it claims before the file's size (or, for a stream,
// its bytes) bears it out.
//
// The format is recognised by the first bytes, never by the name: a .npy
// array ("\x93NUMPY"), a FeatureActivity state as -save writes it ("L0FA",
// metric's binary format), otherwise a safetensors file (a little-endian
// header length, then a JSON object), which with -sparse is a top-k pair.
func OpenReader(name string, r io.Reader, size int64, o Options) (*Input, error) {
	var ra io.ReaderAt
	if size >= 0 {
		var ok bool
		if ra, ok = r.(io.ReaderAt); !ok {
			return nil, errors.New("input.OpenReader: a sized input must be an io.ReaderAt")
		}
		r = io.NewSectionReader(ra, 0, size)
	}
	// The first 9 bytes tell the formats apart (a safetensors file's
	// header length is at most 10^8, and its JSON starts with '{'); a
	// stream gets them back.
	var head [9]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	r = io.MultiReader(bytes.NewReader(head[:n]), r)
	in := &Input{Name: name, src: ra}
	safetensorsHeader := n < 9 || head[8] == '{' || binary.LittleEndian.Uint64(head[:]) <= safetensors.MaxHeaderBytes
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: the file is empty", npy.ErrTruncated)
	case strings.HasPrefix("\x93NUMPY", string(head[:min(n, 6)])): // a short file's bytes may be the start of one
		err = in.openNPY(r, ra, size)
	case n >= 4 && string(head[:4]) == "L0FA":
		err = in.openState(r, ra, size, o)
	case n >= 4 && string(head[:4]) == "L0NM":
		return nil, errors.New("an L0Norm state (magic \"L0NM\"): it has no feature counts; l0 reads FeatureActivity states (\"L0FA\"), as -save writes them")
	case safetensorsHeader && o.TopK.On():
		err = in.openTopK(r, ra, size, o)
	case safetensorsHeader:
		err = in.openSafetensors(r, ra, size, o)
	default:
		return nil, fmt.Errorf("not an array l0 reads: the file starts with %q, the magic of neither a .npy file (\"\\x93NUMPY\") nor an l0 state (\"L0FA\"), nor a safetensors header", head[:n])
	}
	if err != nil {
		return nil, err
	}
	switch {
	case in.Format == State && len(o.Exclude) > 0:
		return nil, errors.New("-exclude-tokens: a state holds counts, not the token ids of its vectors")
	case in.Format == State && o.Sequences:
		return nil, errors.New("-feature-stats: a state holds no per-sequence counts")
	case in.Format != State && in.Format != Delphi:
		if err := in.checkArray(o); err != nil {
			return nil, err
		}
	}
	if len(o.Exclude) > 0 && in.Format != Delphi { // a cache's are set up with it
		if err := in.openTokens(o); err != nil {
			in.Close()
			return nil, err
		}
	}
	return in, nil
}
