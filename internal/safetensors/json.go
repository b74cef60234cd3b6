package safetensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The header is parsed token by token with encoding/json's Decoder, not
// unmarshalled: Unmarshal keeps the last of two equal keys without a word,
// and a token stream lets every unexpected value be rejected where it
// starts, without decoding it, so that no nesting or size in the header
// costs more than reading its bytes.

// parseHeader parses the header text: a JSON object of tensor entries and
// an optional __metadata__, followed only by white space.
func parseHeader(text []byte) ([]Tensor, map[string]string, error) {
	if i := invalidUTF8(text); i >= 0 {
		return nil, nil, fmt.Errorf("%w: the header is not valid UTF-8 (byte %#x at %d)", ErrFormat, text[i], i)
	}
	if len(text) == 0 || text[0] != '{' {
		return nil, nil, fmt.Errorf("%w: the header does not start with '{' (it starts %s)", ErrFormat, quote(string(text[:min(len(text), 8)])))
	}
	if i := loneSurrogate(text); i >= 0 {
		return nil, nil, fmt.Errorf("%w: the header escapes a lone UTF-16 surrogate (%s at byte %d), which is no character", ErrFormat, text[i:i+6], i)
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(text))}
	p.dec.UseNumber()
	if err := p.delim('{', func(v json.Token) error {
		return fmt.Errorf("%w: the header is %s, not an object", ErrFormat, describe(v))
	}); err != nil {
		return nil, nil, err
	}
	var (
		tensors  []Tensor
		metadata map[string]string
		seen     = map[string]struct{}{}
	)
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return nil, nil, err
		}
		if _, dup := seen[key]; dup {
			return nil, nil, fmt.Errorf("%w: the key %s appears twice in the header", ErrFormat, quote(key))
		}
		seen[key] = struct{}{}
		if key == "__metadata__" {
			if metadata, err = p.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		t, err := p.entry(key)
		if err != nil {
			return nil, nil, err
		}
		tensors = append(tensors, t)
	}
	if err := p.end(); err != nil {
		return nil, nil, err
	}
	rest := p.dec.InputOffset()
	for i, c := range text[rest:] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, nil, fmt.Errorf("%w: the header goes on after its object (%s at byte %d); only white space may pad it",
				ErrFormat, quote(string(text[rest+int64(i):][:min(8, len(text)-int(rest)-i)])), rest+int64(i))
		}
	}
	return tensors, metadata, nil
}

// parser reads the header's tokens.
type parser struct {
	dec *json.Decoder
}

// token returns the next token, calling a syntax error or an early end a
// malformed header.
func (p *parser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("%w: the header is not valid JSON: it ends inside the object (at byte %d)", ErrFormat, p.dec.InputOffset())
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the header is not valid JSON: %v (at byte %d)", ErrFormat, err, p.dec.InputOffset())
	}
	return tok, nil
}

// delim reads the opening delimiter want, or returns the error wrong makes
// of the token found instead.
func (p *parser) delim(want json.Delim, wrong func(json.Token) error) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return wrong(tok)
	}
	return nil
}

// key reads an object's key. (The Decoder allows nothing but a string
// there.)
func (p *parser) key() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%w: the header is not valid JSON: %s where a key belongs", ErrFormat, describe(tok))
	}
	return key, nil
}

// end reads the closing delimiter of the object or list whose items
// More reported finished.
func (p *parser) end() error {
	_, err := p.token()
	return err
}

// metadata reads the __metadata__ object of string values.
func (p *parser) metadata() (map[string]string, error) {
	if err := p.delim('{', func(v json.Token) error {
		return fmt.Errorf("%w: __metadata__ is %s, not an object of strings", ErrFormat, describe(v))
	}); err != nil {
		return nil, err
	}
	metadata := map[string]string{}
	for p.dec.More() {
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
		value, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: __metadata__: the value of %s is %s, not a string", ErrFormat, quote(key), describe(tok))
		}
		metadata[key] = value
	}
	return metadata, p.end()
}

// entry reads a tensor's entry: exactly the keys dtype, shape and
// data_offsets, in any order.
func (p *parser) entry(name string) (Tensor, error) {
	t := Tensor{Name: name}
	if err := p.delim('{', func(v json.Token) error {
		return fmt.Errorf("%w: tensor %s: its entry is %s, not an object", ErrFormat, quote(name), describe(v))
	}); err != nil {
		return t, err
	}
	var has struct{ dtype, shape, offsets bool }
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return t, err
		}
		var seen *bool
		var parse func(*Tensor) error
		switch key {
		case "dtype":
			seen, parse = &has.dtype, p.dtype
		case "shape":
			seen, parse = &has.shape, p.shape
		case "data_offsets":
			seen, parse = &has.offsets, p.offsets
		default:
			return t, fmt.Errorf("%w: tensor %s: unknown key %s in its entry (want dtype, shape and data_offsets)", ErrFormat, quote(name), quote(key))
		}
		if *seen {
			return t, fmt.Errorf("%w: tensor %s: the key %q appears twice in its entry", ErrFormat, quote(name), key)
		}
		*seen = true
		if err := parse(&t); err != nil {
			return t, err
		}
	}
	if err := p.end(); err != nil {
		return t, err
	}
	for _, k := range []struct {
		has  bool
		name string
	}{{has.dtype, "dtype"}, {has.shape, "shape"}, {has.offsets, "data_offsets"}} {
		if !k.has {
			return t, fmt.Errorf("%w: tensor %s: its entry has no %q", ErrFormat, quote(name), k.name)
		}
	}
	return t, nil
}

func (p *parser) dtype(t *Tensor) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	name, ok := tok.(string)
	if !ok {
		return fmt.Errorf("%w: tensor %s: dtype is %s, not a string", ErrFormat, quote(t.Name), describe(tok))
	}
	if t.DType, ok = parseDType(name); !ok {
		return fmt.Errorf("%w: tensor %s: unknown dtype %s", ErrFormat, quote(t.Name), quote(name))
	}
	return nil
}

func (p *parser) shape(t *Tensor) error {
	t.Shape = []int64{}
	return p.integers(func(i int, n int64) error {
		t.Shape = append(t.Shape, n)
		return nil
	}, func() string {
		return fmt.Sprintf("tensor %s: dimension %d of the shape", quote(t.Name), len(t.Shape))
	}, func() string {
		return fmt.Sprintf("tensor %s: the shape", quote(t.Name))
	})
}

func (p *parser) offsets(t *Tensor) error {
	var offsets [2]int64
	n := 0
	err := p.integers(func(i int, v int64) error {
		if i >= 2 {
			return fmt.Errorf("%w: tensor %s: data_offsets has more than two values (begin and end)", ErrFormat, quote(t.Name))
		}
		offsets[i] = v
		n++
		return nil
	}, func() string {
		if n < 2 {
			return fmt.Sprintf("tensor %s: %s of data_offsets", quote(t.Name), [...]string{"begin", "end"}[n])
		}
		return fmt.Sprintf("tensor %s: value %d of data_offsets", quote(t.Name), n+1)
	}, func() string {
		return fmt.Sprintf("tensor %s: data_offsets", quote(t.Name))
	})
	if err != nil {
		return err
	}
	if n != 2 {
		return fmt.Errorf("%w: tensor %s: data_offsets has %d values, not two (begin and end)", ErrFormat, quote(t.Name), n)
	}
	t.Begin, t.End = offsets[0], offsets[1]
	return nil
}

// integers reads a list of integers in [0, 2^63), passing each to add.
// item and list name them in errors.
func (p *parser) integers(add func(i int, n int64) error, item, list func() string) error {
	if err := p.delim('[', func(v json.Token) error {
		return fmt.Errorf("%w: %s is %s, not a list of integers", ErrFormat, list(), describe(v))
	}); err != nil {
		return err
	}
	for i := 0; p.dec.More(); i++ {
		tok, err := p.token()
		if err != nil {
			return err
		}
		num, ok := tok.(json.Number)
		text := string(num)
		switch {
		case !ok || strings.ContainsAny(text, ".eE"):
			return fmt.Errorf("%w: %s is %s, not an integer", ErrFormat, item(), describe(tok))
		case text[0] == '-':
			return fmt.Errorf("%w: %s is negative (%s)", ErrFormat, item(), clip(text))
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: %s is %s, 2^63 or more", ErrFormat, item(), clip(text))
		}
		if err := add(i, n); err != nil {
			return err
		}
	}
	return p.end()
}

// describe names a token's kind, and its value if short, in an error
// message.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "a list"
	case string:
		return "the string " + quote(v)
	case json.Number:
		return "the number " + clip(string(v))
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
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

// loneSurrogate returns the index of the first \u escape of a UTF-16
// surrogate that is not half of a pair, or -1. encoding/json would decode
// it as U+FFFD, so that two different names could read as one; the
// reference reader rejects it.
func loneSurrogate(text []byte) int {
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			continue
		}
		i++ // the escaped character: a backslash here escapes nothing further
		r, ok := escapedUnit(text, i-1)
		if !ok || r < 0xd800 || r > 0xdfff {
			continue
		}
		if r < 0xdc00 {
			if low, ok := escapedUnit(text, i+5); ok && 0xdc00 <= low && low <= 0xdfff {
				i += 10 // to the last hex digit of the pair
				continue
			}
		}
		return i - 1
	}
	return -1
}

// escapedUnit decodes the \uXXXX escape at text[i:], if there is one.
func escapedUnit(text []byte, i int) (rune, bool) {
	if i+6 > len(text) || text[i] != '\\' || text[i+1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(text[i+2:i+6]), 16, 16)
	return rune(n), err == nil
}
