package npy

import (
	"fmt"
	"strconv"
	"strings"
)

// The header of a .npy file is the text of a Python dict literal, which
// numpy reads with ast.literal_eval. literal.go parses the subset of Python
// literals a header can sensibly hold: dicts with string keys, strings,
// True and False, decimal integers, tuples and lists. Anything else is an
// error, never a guess.

// tuple and list are the two Python sequence literals; the shape must be a
// tuple, and a structured dtype's descr is a list.
type (
	tuple []any
	list  []any
)

// maxNesting bounds the depth of nested literals, so that a hostile header
// of many opening brackets is rejected early and cheaply.
const maxNesting = 8

// literalParser is a recursive-descent parser over the header text.
type literalParser struct {
	text  string
	pos   int
	depth int
}

// parseDict parses text as a dict literal with string keys, followed only
// by white space.
func parseDict(text string) (map[string]any, error) {
	p := &literalParser{text: text}
	p.skipSpace()
	if p.peek() != '{' {
		return nil, p.errorf("the header is not a dict literal")
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.text) {
		return nil, p.errorf("unexpected %q after the dict", p.text[p.pos])
	}
	return v.(map[string]any), nil
}

func (p *literalParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: header: %s (at byte %d)", ErrFormat, fmt.Sprintf(format, args...), p.pos)
}

func (p *literalParser) peek() byte {
	if p.pos < len(p.text) {
		return p.text[p.pos]
	}
	return 0
}

// skipSpace skips the white space Python allows between tokens (a header
// is padded with spaces and ends with a newline).
func (p *literalParser) skipSpace() {
	for p.pos < len(p.text) {
		switch p.text[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

func (p *literalParser) value() (any, error) {
	p.skipSpace()
	c := p.peek()
	switch {
	case c == '{' || c == '(' || c == '[':
		if p.depth == maxNesting {
			return nil, p.errorf("literals nested more than %d deep", maxNesting)
		}
		p.depth++
		defer func() { p.depth-- }()
		switch c {
		case '{':
			return p.dict()
		case '(':
			return p.tuple()
		}
		return p.list()
	case c == '\'' || c == '"':
		return p.string()
	case c == '-' || c == '+' || ('0' <= c && c <= '9'):
		return p.integer()
	case c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'):
		return p.name()
	case c == 0 && p.pos == len(p.text):
		return nil, p.errorf("unexpected end of the header")
	}
	return nil, p.errorf("unexpected %q", c)
}

// sequence parses the items of a bracketed sequence up to close, the
// opening bracket already consumed, allowing a trailing comma. It reports
// whether a comma followed the last item, which tells the tuple (1,)
// from the parenthesized expression (1).
func (p *literalParser) sequence(close byte, item func() error) (comma bool, err error) {
	for {
		p.skipSpace()
		if p.peek() == close {
			p.pos++
			return comma, nil
		}
		if err := item(); err != nil {
			return false, err
		}
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
			comma = true
		case close:
			p.pos++
			return false, nil
		default:
			return false, p.errorf("expected ',' or %q", close)
		}
	}
}

func (p *literalParser) dict() (any, error) {
	p.pos++ // {
	d := map[string]any{}
	_, err := p.sequence('}', func() error {
		p.skipSpace()
		start := p.pos
		k, err := p.value()
		if err != nil {
			return err
		}
		key, ok := k.(string)
		if !ok {
			p.pos = start
			return p.errorf("a dict key is not a string")
		}
		if _, dup := d[key]; dup {
			p.pos = start
			return p.errorf("the key %q appears twice", key)
		}
		p.skipSpace()
		if p.peek() != ':' {
			return p.errorf("expected ':' after the key %q", key)
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return err
		}
		d[key] = v
		return nil
	})
	return d, err
}

func (p *literalParser) tuple() (any, error) {
	p.pos++ // (
	var items tuple
	comma, err := p.sequence(')', func() error {
		v, err := p.value()
		items = append(items, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 1 && !comma {
		return items[0], nil // (x) is x, not a tuple
	}
	if items == nil {
		items = tuple{}
	}
	return items, nil
}

func (p *literalParser) list() (any, error) {
	p.pos++ // [
	items := list{}
	_, err := p.sequence(']', func() error {
		v, err := p.value()
		items = append(items, v)
		return err
	})
	return items, err
}

// string parses a quoted string without escape sequences or prefixes,
// which no header numpy writes contains.
func (p *literalParser) string() (any, error) {
	quote := p.text[p.pos]
	start := p.pos + 1
	for i := start; i < len(p.text); i++ {
		switch p.text[i] {
		case quote:
			p.pos = i + 1
			return p.text[start:i], nil
		case '\\':
			p.pos = i
			return nil, p.errorf("escape sequences in strings are not supported")
		case '\n':
			p.pos = i
			return nil, p.errorf("unterminated string")
		}
	}
	p.pos = len(p.text)
	return nil, p.errorf("unterminated string")
}

// integer parses an optionally signed decimal integer that fits in an
// int64.
func (p *literalParser) integer() (any, error) {
	start := p.pos
	if c := p.peek(); c == '-' || c == '+' {
		p.pos++
		p.skipSpace() // Python allows "- 1"
	}
	digits := p.pos
	for p.pos < len(p.text) && '0' <= p.text[p.pos] && p.text[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == digits {
		return nil, p.errorf("expected digits")
	}
	if c := p.peek(); c == '.' || c == 'e' || c == 'E' || c == 'x' || c == 'X' || c == '_' || c == 'j' || c == 'J' || c == 'L' || c == 'l' {
		return nil, p.errorf("only decimal integers are supported")
	}
	// Python 3 reads 0, 00 and 000 as zero but refuses 02 (Python 2's
	// octal), and so does numpy's header parser: so must this one.
	if text := p.text[digits:p.pos]; text[0] == '0' && strings.Trim(text, "0") != "" {
		p.pos = digits
		return nil, p.errorf("the integer %s has a leading zero, which Python does not allow", text)
	}
	n, err := strconv.ParseInt(p.text[digits:p.pos], 10, 64)
	if err != nil {
		text := p.text[digits:p.pos]
		p.pos = start
		return nil, p.errorf("the integer %s does not fit in 64 bits", text)
	}
	if p.text[start] == '-' {
		n = -n
	}
	return n, nil
}

// name parses True or False.
func (p *literalParser) name() (any, error) {
	start := p.pos
	for p.pos < len(p.text) {
		c := p.text[p.pos]
		if c != '_' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') {
			break
		}
		p.pos++
	}
	switch name := p.text[start:p.pos]; name {
	case "True":
		return true, nil
	case "False":
		return false, nil
	default:
		p.pos = start
		return nil, p.errorf("unexpected name %q", name)
	}
}
