package safetensors

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The header is parsed token by token, not unmarshalled: encoding/json's
// Unmarshal keeps the last of two equal keys without a word, and a token
// stream lets every unexpected value be rejected where it starts, without
// decoding it, so that no nesting or size in the header costs more than
// reading its bytes. The tokens come from lexer (lexer.go).

// parseHeader parses the header text: a JSON object of tensor entries and
// an optional __metadata__, followed only by white space.
func parseHeader(text []byte) ([]Tensor, map[string]string, error) {
	if i := invalidUTF8(text); i >= 0 {
		return nil, nil, fmt.Errorf("%w: the header is not valid UTF-8 (byte %#x at %d)", ErrFormat, text[i], i)
	}
	if len(text) == 0 || text[0] != '{' {
		return nil, nil, fmt.Errorf("%w: the header does not start with '{' (it starts %s)", ErrFormat, quote(string(text[:min(len(text), 8)])))
	}
	p := &parser{lx: &lexer{text: text}, dims: make([]int64, 0, 64)}
	if _, err := p.token(); err != nil { // the '{'
		return nil, nil, err
	}
	var metadata map[string]string
	// A capacity that spares a header of many tensors the slice's growth,
	// and that a hostile header cannot inflate: a tensor takes one
	// "data_offsets" and at least minEntryBytes.
	tensors := make([]Tensor, 0, min(bytes.Count(text, []byte(`"data_offsets"`)), len(text)/minEntryBytes))
	for p.lx.More() {
		key, err := p.key()
		if err != nil {
			return nil, nil, err
		}
		if key == "__metadata__" {
			if metadata != nil {
				return nil, nil, fmt.Errorf("%w: the key %s appears twice in the header", ErrFormat, quote(key))
			}
			if metadata, err = p.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		// Two tensors of one name are found by Header.layout, which
		// indexes the names anyway.
		tensors = append(tensors, Tensor{Name: key})
		if err := p.entry(&tensors[len(tensors)-1]); err != nil {
			return nil, nil, err
		}
	}
	if err := p.end(); err != nil {
		return nil, nil, err
	}
	rest := p.lx.Offset()
	for i, c := range text[rest:] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			at := text[rest+i:]
			return nil, nil, fmt.Errorf("%w: the header goes on after its object (%s at byte %d); only white space may pad it",
				ErrFormat, quote(string(at[:min(8, len(at))])), rest+i)
		}
	}
	return tensors, metadata, nil
}

// minEntryBytes is the length of the shortest tensor entry, as in
// "":{"dtype":"U8","shape":[],"data_offsets":[0,0]}.
const minEntryBytes = 49

// parser reads the header's tokens.
type parser struct {
	lx   *lexer
	dims []int64 // the shapes, one after the other: an allocation for many
}

// token returns the next token, calling a syntax error a malformed header.
func (p *parser) token() (token, error) {
	tok, err := p.lx.Token()
	if err != nil {
		return tok, fmt.Errorf("%w: the header is not valid JSON: %v", ErrFormat, err)
	}
	return tok, nil
}

// delim reads the opening delimiter want, or returns the error wrong makes
// of the token found instead.
func (p *parser) delim(want tokenKind, wrong func(token) error) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok.kind != want {
		return wrong(tok)
	}
	return nil
}

// key reads an object's key. (The lexer allows nothing but a string
// there.)
func (p *parser) key() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	if tok.kind != tokenString {
		return "", errors.New("safetensors: internal error: a key that is not a string")
	}
	return tok.text, nil
}

// end reads the closing delimiter of the object or list whose items
// More reported finished.
func (p *parser) end() error {
	_, err := p.token()
	return err
}

// metadata reads the __metadata__ object of string values.
func (p *parser) metadata() (map[string]string, error) {
	if err := p.delim('{', func(v token) error {
		return fmt.Errorf("%w: __metadata__ is %s, not an object of strings", ErrFormat, describe(v))
	}); err != nil {
		return nil, err
	}
	metadata := map[string]string{}
	for p.lx.More() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		if _, dup := metadata[key]; dup {
			return nil, fmt.Errorf("%w: __metadata__: the key %s appears twice", ErrFormat, quote(key))
		}
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		if tok.kind != tokenString {
			return nil, fmt.Errorf("%w: __metadata__: the value of %s is %s, not a string", ErrFormat, quote(key), describe(tok))
		}
		metadata[key] = tok.text
	}
	return metadata, p.end()
}

// entry reads a tensor's entry: exactly the keys dtype, shape and
// data_offsets, in any order.
func (p *parser) entry(t *Tensor) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok.kind != '{' {
		return fmt.Errorf("%w: tensor %s: its entry is %s, not an object", ErrFormat, quote(t.Name), describe(tok))
	}
	var has struct{ dtype, shape, offsets bool }
	for p.lx.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		var seen *bool
		switch key {
		case "dtype":
			seen = &has.dtype
		case "shape":
			seen = &has.shape
		case "data_offsets":
			seen = &has.offsets
		default:
			return fmt.Errorf("%w: tensor %s: unknown key %s in its entry (want dtype, shape and data_offsets)", ErrFormat, quote(t.Name), quote(key))
		}
		if *seen {
			return fmt.Errorf("%w: tensor %s: the key %q appears twice in its entry", ErrFormat, quote(t.Name), key)
		}
		*seen = true
		switch key {
		case "dtype":
			err = p.dtype(t)
		case "shape":
			err = p.shape(t)
		default:
			err = p.offsets(t)
		}
		if err != nil {
			return err
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	for _, k := range [...]struct {
		has  bool
		name string
	}{{has.dtype, "dtype"}, {has.shape, "shape"}, {has.offsets, "data_offsets"}} {
		if !k.has {
			return fmt.Errorf("%w: tensor %s: its entry has no %q", ErrFormat, quote(t.Name), k.name)
		}
	}
	return nil
}

func (p *parser) dtype(t *Tensor) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok.kind != tokenString {
		return fmt.Errorf("%w: tensor %s: dtype is %s, not a string", ErrFormat, quote(t.Name), describe(tok))
	}
	var ok bool
	if t.DType, ok = parseDType(tok.text); !ok {
		return fmt.Errorf("%w: tensor %s: unknown dtype %s", ErrFormat, quote(t.Name), quote(tok.text))
	}
	return nil
}

func (p *parser) shape(t *Tensor) error {
	start := len(p.dims)
	if err := p.integers(t, "shape", -1); err != nil {
		return err
	}
	t.Shape = p.dims[start:len(p.dims):len(p.dims)]
	return nil
}

func (p *parser) offsets(t *Tensor) error {
	start := len(p.dims)
	if err := p.integers(t, "data_offsets", 2); err != nil {
		return err
	}
	if n := len(p.dims) - start; n != 2 {
		return fmt.Errorf("%w: tensor %s: data_offsets has %d values, not two (begin and end)", ErrFormat, quote(t.Name), n)
	}
	t.Begin, t.End = p.dims[start], p.dims[start+1]
	p.dims = p.dims[:start]
	return nil
}

// integers reads the list of integers in [0, 2^63) that is the part of
// tensor t's entry under key, shape or data_offsets, appending them to
// p.dims; most, if not -1, bounds their number (data_offsets has two).
func (p *parser) integers(t *Tensor, key string, most int) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok.kind != '[' {
		list := map[string]string{"shape": "the shape", "data_offsets": "data_offsets"}[key]
		return fmt.Errorf("%w: tensor %s: %s is %s, not a list of integers", ErrFormat, quote(t.Name), list, describe(tok))
	}
	for i := 0; p.lx.More(); i++ {
		if i == most {
			return fmt.Errorf("%w: tensor %s: data_offsets has more than two values (begin and end)", ErrFormat, quote(t.Name))
		}
		if i == MaxRank && key == "shape" {
			return fmt.Errorf("%w: tensor %s: the shape has more than %d dimensions (MaxRank)", ErrFormat, quote(t.Name), MaxRank)
		}
		tok, err := p.token()
		if err != nil {
			return err
		}
		switch {
		case tok.kind != tokenNumber || strings.ContainsAny(tok.text, ".eE"):
			return fmt.Errorf("%w: tensor %s: %s is %s, not an integer", ErrFormat, quote(t.Name), item(key, i), describe(tok))
		case tok.text[0] == '-':
			return fmt.Errorf("%w: tensor %s: %s is negative (%s)", ErrFormat, quote(t.Name), item(key, i), clip(tok.text))
		}
		n, err := strconv.ParseInt(tok.text, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: tensor %s: %s is %s, 2^63 or more", ErrFormat, quote(t.Name), item(key, i), clip(tok.text))
		}
		p.dims = append(p.dims, n)
	}
	return p.end()
}

// item names the i-th integer of a shape or data_offsets.
func item(key string, i int) string {
	if key == "shape" {
		return fmt.Sprintf("dimension %d of the shape", i)
	}
	return [...]string{"begin", "end"}[i] + " of data_offsets"
}

// describe names a token's kind, and its value if short, in an error
// message.
func describe(tok token) string {
	switch tok.kind {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case tokenString:
		return "the string " + quote(tok.text)
	case tokenNumber:
		return "the number " + clip(tok.text)
	case tokenTrue:
		return "true"
	case tokenFalse:
		return "false"
	case tokenNull:
		return "null"
	}
	return fmt.Sprintf("%q", rune(tok.kind))
}

// maxQuoted bounds the bytes of a name or value from the file an error
// message repeats.
const maxQuoted = 64

// quote returns s quoted, cut after maxQuoted bytes: a hostile name of
// megabytes does not make an error message of megabytes.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// clip cuts a number's text as quote cuts a string.
func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	return s[:maxQuoted] + fmt.Sprintf("... (%d digits)", len(s))
}

// invalidUTF8 returns the index of the first byte of text that is not part
// of a valid UTF-8 sequence, or -1.
func invalidUTF8(text []byte) int {
	if utf8.Valid(text) {
		return -1
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}
