package safetensors

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// lexer splits JSON text (RFC 8259) into tokens, checking the grammar as
// it goes: the keys, colons and commas of objects and arrays, escapes,
// numbers and literals. It does what encoding/json.Decoder's Token does,
// stricter and lighter: an escaped lone UTF-16 surrogate is an error, not
// U+FFFD, and a token allocates nothing but its text. (ReadHeader on
// Decoder allocated 29 bytes per byte of a header of many small tensors,
// most of it an error Decoder builds and drops at the end of every value,
// and took 4 times as long; on lexer it allocates 4.4.) FuzzLexer checks
// it against Decoder. The text must be valid UTF-8: parseHeader checks
// that first.
type lexer struct {
	text  []byte
	pos   int
	stack []byte // '{' or '[' for each open container
	state lexState
}

// lexState is what the grammar allows next.
type lexState uint8

const (
	lexValue       lexState = iota // a value: at the top, after '[', ',' in an array, or ':'
	lexArrayStart                  // a value or ']'
	lexArrayComma                  // ',' or ']'
	lexObjectStart                 // a key or '}'
	lexObjectKey                   // a key, after ','
	lexObjectColon                 // ':'
	lexObjectComma                 // ',' or '}'
	lexEnd                         // nothing: the top value is complete
)

// tokenKind is a token's kind: a delimiter's own byte, or one of these.
type tokenKind byte

const (
	tokenString tokenKind = 's'
	tokenNumber tokenKind = 'n'
	tokenTrue   tokenKind = 't'
	tokenFalse  tokenKind = 'f'
	tokenNull   tokenKind = '0'
)

// token is one token: a delimiter ({ } [ ]), a string (its value, escapes
// decoded), a number (its text) or a literal.
type token struct {
	kind tokenKind
	text string
}

// lexError is a syntax error at a byte of the text.
type lexError struct {
	pos int
	msg string
}

func (e *lexError) Error() string { return fmt.Sprintf("%s (at byte %d)", e.msg, e.pos) }

func (l *lexer) errorf(pos int, format string, args ...any) error {
	return &lexError{pos, fmt.Sprintf(format, args...)}
}

// unexpected describes the byte at pos, or the end of the text.
func (l *lexer) unexpected(pos int, where string) error {
	if pos >= len(l.text) {
		return l.errorf(pos, "the text ends %s", where)
	}
	r, _ := utf8.DecodeRune(l.text[pos:])
	return l.errorf(pos, "unexpected %q %s", r, where)
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.text) {
		switch l.text[l.pos] {
		case ' ', '\t', '\n', '\r':
			l.pos++
		default:
			return
		}
	}
}

// More reports whether the current object or array has another item: the
// next token is not a closing delimiter, nor the end of the text.
func (l *lexer) More() bool {
	l.skipSpace()
	return l.pos < len(l.text) && l.text[l.pos] != ']' && l.text[l.pos] != '}'
}

// Offset returns the position after the last token.
func (l *lexer) Offset() int { return l.pos }

// Token returns the next token, consuming the colons and commas before it.
func (l *lexer) Token() (token, error) {
	for {
		l.skipSpace()
		if l.pos >= len(l.text) {
			return token{}, l.unexpected(l.pos, l.where())
		}
		start := l.pos
		switch c := l.text[l.pos]; c {
		case ':':
			if l.state != lexObjectColon {
				return token{}, l.unexpected(start, l.where())
			}
			l.pos++
			l.state = lexValue
			continue
		case ',':
			switch l.state {
			case lexArrayComma:
				l.state = lexValue
			case lexObjectComma:
				l.state = lexObjectKey
			default:
				return token{}, l.unexpected(start, l.where())
			}
			l.pos++
			continue
		case ']', '}':
			open := byte('[')
			if c == '}' {
				open = '{'
			}
			if len(l.stack) == 0 || l.stack[len(l.stack)-1] != open ||
				(c == ']' && l.state != lexArrayStart && l.state != lexArrayComma) ||
				(c == '}' && l.state != lexObjectStart && l.state != lexObjectComma) {
				return token{}, l.unexpected(start, l.where())
			}
			l.pos++
			l.stack = l.stack[:len(l.stack)-1]
			l.valueDone()
			return token{kind: tokenKind(c)}, nil
		case '"':
			if l.state == lexObjectStart || l.state == lexObjectKey {
				s, err := l.string()
				if err != nil {
					return token{}, err
				}
				l.state = lexObjectColon
				return token{kind: tokenString, text: s}, nil
			}
		}
		if l.state != lexValue && l.state != lexArrayStart {
			return token{}, l.unexpected(start, l.where())
		}
		return l.value()
	}
}

// value lexes a value where one is allowed.
func (l *lexer) value() (token, error) {
	switch c := l.text[l.pos]; {
	case c == '{' || c == '[':
		l.pos++
		l.stack = append(l.stack, c)
		l.state = lexObjectStart
		if c == '[' {
			l.state = lexArrayStart
		}
		return token{kind: tokenKind(c)}, nil
	case c == '"':
		s, err := l.string()
		if err != nil {
			return token{}, err
		}
		l.valueDone()
		return token{kind: tokenString, text: s}, nil
	case c == '-' || ('0' <= c && c <= '9'):
		n, err := l.number()
		if err != nil {
			return token{}, err
		}
		l.valueDone()
		return token{kind: tokenNumber, text: n}, nil
	}
	for _, lit := range [...]struct {
		text string
		kind tokenKind
	}{{"true", tokenTrue}, {"false", tokenFalse}, {"null", tokenNull}} {
		if len(l.text)-l.pos >= len(lit.text) && string(l.text[l.pos:l.pos+len(lit.text)]) == lit.text {
			l.pos += len(lit.text)
			l.valueDone()
			return token{kind: lit.kind}, nil
		}
	}
	return token{}, l.unexpected(l.pos, "where a value belongs")
}

// valueDone moves past a complete value.
func (l *lexer) valueDone() {
	switch {
	case len(l.stack) == 0:
		l.state = lexEnd
	case l.stack[len(l.stack)-1] == '[':
		l.state = lexArrayComma
	default:
		l.state = lexObjectComma
	}
}

// where says what the grammar expected, for an error message.
func (l *lexer) where() string {
	return [...]string{
		lexValue:       "where a value belongs",
		lexArrayStart:  "where a value or ']' belongs",
		lexArrayComma:  "after a list item (want ',' or ']')",
		lexObjectStart: "where a key or '}' belongs",
		lexObjectKey:   "where a key belongs",
		lexObjectColon: "after a key (want ':')",
		lexObjectComma: "after an object's value (want ',' or '}')",
		lexEnd:         "after the value",
	}[l.state]
}

// string lexes a string at l.pos and returns its value.
func (l *lexer) string() (string, error) {
	start := l.pos
	l.pos++ // the opening quote
	plain := true
	for i := l.pos; i < len(l.text); i++ {
		switch c := l.text[i]; {
		case c == '"':
			if plain {
				l.pos = i + 1
				return string(l.text[start+1 : i]), nil
			}
			return l.unescape(start, i)
		case c == '\\':
			plain = false
			i++ // the escaped byte is no quote; unescape checks it
		case c < 0x20:
			return "", l.errorf(i, "a control character (%#x) in a string", c)
		}
	}
	return "", l.errorf(start, "a string that does not end")
}

// unescape returns the value of the string text[start:end+1], which has
// escapes, and moves past it.
func (l *lexer) unescape(start, end int) (string, error) {
	b := make([]byte, 0, end-start)
	for i := start + 1; i < end; i++ {
		c := l.text[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch l.text[i] {
		case '"', '\\', '/':
			b = append(b, l.text[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(l.text, i+1, end)
			if !ok {
				return "", l.errorf(i-1, `a \u escape without four hex digits`)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				low, ok := rune(0), false
				if r < 0xdc00 && i+2 < end && l.text[i+1] == '\\' && l.text[i+2] == 'u' {
					low, ok = hex4(l.text, i+3, end)
				}
				if !ok || low < 0xdc00 || low > 0xdfff {
					return "", l.errorf(i-5, `a lone UTF-16 surrogate (\u%04x), which is no character`, r)
				}
				r = utf16.DecodeRune(r, low)
				i += 6
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", l.errorf(i-1, "an invalid escape \\%c", rune(l.text[i]))
		}
	}
	l.pos = end + 1
	return string(b), nil
}

// hex4 decodes the four hex digits at text[i:], before end.
func hex4(text []byte, i, end int) (rune, bool) {
	if i+4 > end {
		return 0, false
	}
	r := rune(0)
	for _, c := range text[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number lexes a number at l.pos, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
// and returns its text.
func (l *lexer) number() (string, error) {
	start := l.pos
	digits := func() int {
		n := 0
		for l.pos < len(l.text) && '0' <= l.text[l.pos] && l.text[l.pos] <= '9' {
			l.pos++
			n++
		}
		return n
	}
	if l.text[l.pos] == '-' {
		l.pos++
	}
	switch {
	case l.pos < len(l.text) && l.text[l.pos] == '0':
		l.pos++
	case digits() == 0:
		return "", l.unexpected(l.pos, "in a number")
	}
	if l.pos < len(l.text) && l.text[l.pos] == '.' {
		l.pos++
		if digits() == 0 {
			return "", l.unexpected(l.pos, "in a number")
		}
	}
	if l.pos < len(l.text) && (l.text[l.pos] == 'e' || l.text[l.pos] == 'E') {
		l.pos++
		if l.pos < len(l.text) && (l.text[l.pos] == '+' || l.text[l.pos] == '-') {
			l.pos++
		}
		if digits() == 0 {
			return "", l.unexpected(l.pos, "in a number")
		}
	}
	return string(l.text[start:l.pos]), nil
}
