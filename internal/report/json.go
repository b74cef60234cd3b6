package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sparsekit/l0/internal/input"
)

// JSONLine is the -json form of a report: one object per line. Its
// fields, their names and meaning, are the command's documented output.
type JSONLine struct {
	File          string      `json:"file"`
	FileBytes     []byte      `json:"file_bytes,omitempty"` // a name not UTF-8: its bytes, in base64
	Format        string      `json:"format"`
	Tensor        *string     `json:"tensor,omitempty"` // a safetensors input's, "" too
	Sparse        *JSONSparse `json:"sparse,omitempty"`
	Delphi        *JSONDelphi `json:"delphi,omitempty"`
	Total         bool        `json:"total,omitempty"`
	Files         []string    `json:"files,omitempty"`
	FilesBytes    [][]byte    `json:"files_bytes,omitempty"` // when a name is not UTF-8: every name's bytes
	Shape         []int64     `json:"shape"`
	DType         string      `json:"dtype"`
	Vectors       int64       `json:"vectors"`
	Components    int         `json:"components"`
	Features      int         `json:"features"`
	Positions     int         `json:"positions,omitempty"`
	SkipPositions *int        `json:"skip_positions,omitempty"`
	Rule          string      `json:"rule"`
	Threshold     *Number     `json:"threshold"`
	L0            any         `json:"l0"`
	L0ByPosition  Positions   `json:"l0_by_position,omitempty"`
	Excluded      *int64      `json:"excluded_vectors,omitempty"` // with -exclude-tokens: the vectors left out
	Sequences     *int64      `json:"sequences,omitempty"`        // with per-sequence counts: the sequences (rows)
	Dead          any         `json:"dead"`
	// DeadAfter is -dead-after: dead counts the features with more than
	// this many vectors since they fired; absent, those that never fired.
	DeadAfter      *int64         `json:"dead_after,omitempty"`
	Dense          any            `json:"dense"`
	DenseThreshold float64        `json:"dense_threshold"`
	Histogram      *JSONHistogram `json:"density_histogram"`
	Kernel         string         `json:"kernel"`
	Bytes          int64          `json:"bytes"`
	Seconds        float64        `json:"seconds"`
}

// JSONSparse describes a top-k pair (-sparse): its tensors, their dtypes
// as the file spells them, and k; the report's shape, dtype and numbers
// are those of the dense array it stands for.
type JSONSparse struct {
	Index       string `json:"index"`
	IndexDType  string `json:"index_dtype"`
	Values      string `json:"values,omitempty"`
	ValuesDType string `json:"values_dtype,omitempty"`
	K           int    `json:"k"`
}

// JSONDelphi describes a delphi latent cache: its split files, their
// entries, the dtype of their locations (U16, U32, or "U16 and U32"),
// whether they hold tokens, and where the sequences come from: "tokens"
// (their rows), or "config.json" ((n_tokens // cache_ctx_len //
// batch_size) × batch_size, as delphi caches them, for a cache saved
// without tokens).
type JSONDelphi struct {
	Splits    int    `json:"splits"`
	Entries   int64  `json:"entries"`
	Locations string `json:"locations_dtype"`
	Tokens    bool   `json:"tokens"`
	Sequences string `json:"sequences_from"`
}

type JSONHistogram struct {
	Edges     []float64 `json:"log10_edges"`
	Counts    []int     `json:"counts"`
	Underflow int       `json:"underflow"`
	Dead      int       `json:"dead"`
	AboveOne  int       `json:"above_one"` // density > 1: top-k indices repeated in a vector
}

// JSON writes the report as one line of JSON, in one Write. A top-k pair (-sparse)
// is reported as the dense array it stands for, with its tensors in
// "sparse"; its dtype is the values' as the file spells them, or "uint8"
// without values. l0, dead and dense are
// numbers for a [batch, feature] array (and with -positions) and lists, one
// per component, for a [batch, component, feature] array. With -positions,
// l0_by_position lists the L0 of each position counted, the first being
// position skip_positions; positions is the array's own count.
func JSON(w io.Writer, r *Report) error {
	c := r.Config
	j := JSONLine{
		File:           r.Name,
		Format:         r.Format,
		Total:          r.Format == Total,
		Files:          r.Files,
		Shape:          r.Shape,
		DType:          r.DType,
		Vectors:        r.Vectors,
		Components:     c.Components,
		Features:       c.Features,
		L0ByPosition:   r.L0ByPosition,
		Rule:           r.Rule.String(),
		L0:             r.L0,
		Dead:           r.Dead,
		Dense:          r.Dense,
		DenseThreshold: r.DenseAbove,
		Histogram: &JSONHistogram{
			Edges:     r.Histogram.Edges[:],
			Counts:    r.Histogram.Counts[:],
			Underflow: r.Histogram.Underflow,
			Dead:      r.Histogram.Dead,
			AboveOne:  r.Histogram.AboveOne,
		},
		Kernel:  r.Level.String(),
		Bytes:   r.Bytes,
		Seconds: r.Elapsed.Seconds(),
	}
	if c.Positions > 0 {
		j.Positions, j.SkipPositions = c.Positions+c.Skip, &c.Skip
	}
	j.DeadAfter = r.DeadAfter
	if r.Format == input.Safetensors {
		j.Tensor = &r.Tensor // a tensor may be named ""
	}
	if r.Masked {
		j.Excluded = &r.Excluded
	}
	if c.Sequences && c.Positions > 0 {
		j.Sequences = &r.Sequences
	}
	j.FileBytes, j.FilesBytes = nameBytes(r.Name), namesBytes(r.Files)
	if d := r.Cache; d != nil {
		j.Delphi = &JSONDelphi{Splits: d.Splits, Entries: d.Entries, Locations: d.Locations, Tokens: d.Tokens, Sequences: d.Sequences}
	}
	if p := r.Pair; p != nil {
		j.Sparse = &JSONSparse{Index: p.Index, IndexDType: p.IndexDType, Values: p.Values, ValuesDType: p.ValuesDType, K: p.K}
	}
	switch {
	case r.Vectors == 0:
		// No vectors (a state saved before its first batch): no L0, no
		// density.
		j.L0, j.Dead, j.Dense, j.Histogram = nil, nil, nil, nil
	case c.Components == 0:
		j.L0, j.Dead, j.Dense = r.L0[0], r.Dead[0], r.Dense[0]
	}
	if t, ok := r.Rule.Threshold(); ok {
		jt := Number(t)
		j.Threshold = &jt
	}
	// One Write per line, so that lines never interleave.
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false) // "<f4", not "\u003cf4"
	if err := enc.Encode(j); err != nil {
		return oneReport{err} // this file's report, not the output
	}
	_, err := w.Write(line.Bytes())
	return err
}

// Positions is the L0 per position as -json writes it: the numbers, and
// null at a position no vector was kept at (a token mask; NaN in the
// report).
type Positions []float64

func (p Positions) MarshalJSON() ([]byte, error) {
	for _, v := range p {
		if math.IsNaN(v) {
			out := make([]any, len(p))
			for i, v := range p {
				if !math.IsNaN(v) {
					out[i] = v
				}
			}
			return json.Marshal(out)
		}
	}
	return json.Marshal([]float64(p))
}

// nameBytes returns the bytes of a name that is not valid UTF-8, for
// -json's "file_bytes": JSON strings are UTF-8, and encoding/json writes
// each byte of another name as U+FFFD, which loses it. nil for a UTF-8
// name.
func nameBytes(name string) []byte {
	if utf8.ValidString(name) {
		return nil
	}
	return []byte(name)
}

// namesBytes returns the bytes of every name, for -json's "files_bytes",
// when one is not valid UTF-8; else nil.
func namesBytes(names []string) [][]byte {
	for _, name := range names {
		if !utf8.ValidString(name) {
			b := make([][]byte, len(names))
			for i, n := range names {
				b[i] = []byte(n)
			}
			return b
		}
	}
	return nil
}

// Number is a float64 that JSON can hold whatever its value: a number
// when it is finite, else the string "inf", "-inf" or "nan" (JSON has no
// infinities; Python's float() reads all three strings back).
type Number float64

func (n Number) MarshalJSON() ([]byte, error) {
	switch f := float64(n); {
	case math.IsInf(f, 1):
		return []byte(`"inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-inf"`), nil
	case math.IsNaN(f):
		return []byte(`"nan"`), nil
	}
	return json.Marshal(float64(n))
}

func (n *Number) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !math.IsInf(f, 0) && !math.IsNaN(f) {
			return fmt.Errorf("the string %q is not inf, -inf or nan", s)
		}
		*n = Number(f)
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*n = Number(f)
	return err
}
