package safetensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// lexFirstValue returns the tokens of the first JSON value of text, each as a
// string: the delimiter, s:VALUE, n:TEXT, true, false or null.
func lexFirstValue(text []byte) ([]string, error) {
	l := &lexer{text: text}
	var tokens []string
	for {
		tok, err := l.Token()
		if err != nil {
			return tokens, err
		}
		switch tok.kind {
		case tokenString:
			tokens = append(tokens, "s:"+tok.text)
		case tokenNumber:
			tokens = append(tokens, "n:"+tok.text)
		case tokenTrue, tokenFalse, tokenNull:
			tokens = append(tokens, map[tokenKind]string{tokenTrue: "true", tokenFalse: "false", tokenNull: "null"}[tok.kind])
		default:
			tokens = append(tokens, string(rune(tok.kind)))
		}
		if l.state == lexEnd {
			return tokens, nil
		}
	}
}

// decodeValue returns the tokens of the first JSON value of text as
// encoding/json's Decoder sees them, in lexFirstValue's form.
func decodeValue(text []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var tokens []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return tokens, err
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
			tokens = append(tokens, v.String())
		case string:
			tokens = append(tokens, "s:"+v)
		case json.Number:
			tokens = append(tokens, "n:"+string(v))
		case bool:
			tokens = append(tokens, fmt.Sprint(v))
		case nil:
			tokens = append(tokens, "null")
		}
		if depth == 0 {
			return tokens, nil
		}
	}
}

func TestLexer(t *testing.T) {
	for _, c := range []struct {
		text string
		want string // the tokens, space-separated, or the error's words
	}{
		{`{}`, `{ }`},
		{` { "a" : [ 1 , -0.5e+3 , 0 , 1E2 , true , false , null ] } `, `{ s:a [ n:1 n:-0.5e+3 n:0 n:1E2 true false null ] }`},
		{`{"a\"b\\c\/d\b\f\n\r\tx\u00e9\ud83e\udd80":""}`, "{ s:a\"b\\c/d\b\f\n\r\txé🦀 s: }"},
		{`{"é✓":{"":[[],{}]}}`, `{ s:é✓ { s: [ [ ] { } ] } }`},
		{`"top"`, `s:top`},
		{`-12 x`, `n:-12`},
		{`[1,]`, `unexpected ']' where a value belongs (at byte 3)`},
		{`{"a":1,}`, `unexpected '}' where a key belongs (at byte 7)`},
		{`{"a" 1}`, `unexpected '1' after a key (want ':') (at byte 5)`},
		{`{"a":1 "b":2}`, `unexpected '"' after an object's value (want ',' or '}') (at byte 7)`},
		{`[1 2]`, `after a list item`},
		{`{1:2}`, `unexpected '1' where a key or '}' belongs`},
		{`[}`, `unexpected '}' where a value or ']' belongs`},
		{`{]`, `unexpected ']' where a key or '}' belongs`},
		{`[:]`, `unexpected ':'`},
		{`[,1]`, `unexpected ','`},
		{`{"a"::1}`, `unexpected ':' where a value belongs`},
		{`{"a":1`, `the text ends after an object's value`},
		{``, `the text ends where a value belongs (at byte 0)`},
		{`[01]`, `unexpected '1' after a list item`},
		{`[-]`, `unexpected ']' in a number`},
		{`[1.]`, `unexpected ']' in a number`},
		{`[.5]`, `unexpected '.' where a value belongs`},
		{`[1e]`, `in a number`},
		{`[+1]`, `unexpected '+'`},
		{`[nul]`, `unexpected 'n' where a value belongs`},
		{`[True]`, `unexpected 'T'`},
		{`['a']`, `unexpected '\''`},
		{`["a`, `a string that does not end (at byte 1)`},
		{`["a\"]`, `a string that does not end`},
		{"[\"a\tb\"]", `a control character (0x9) in a string (at byte 3)`},
		{`["\x"]`, `an invalid escape \x (at byte 2)`},
		{`["\u12"]`, `a \u escape without four hex digits`},
		{`["\u12g4"]`, `a \u escape without four hex digits`},
		{`["\ud800"]`, `a lone UTF-16 surrogate (\ud800), which is no character (at byte 2)`},
		{`["\udc00"]`, `lone UTF-16 surrogate (\udc00)`},
		{`["\ud800\n"]`, `lone UTF-16 surrogate (\ud800)`},
		{`["\ud800\ud800"]`, `lone UTF-16 surrogate (\ud800)`},
		{`["x\ud800\u"]`, `lone UTF-16 surrogate`},
	} {
		tokens, err := lexFirstValue([]byte(c.text))
		got := strings.Join(tokens, " ")
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.text, got, c.want)
		}
	}
}

// FuzzLexer checks the lexer against encoding/json: the same tokens for
// the same first value, and an error where Decoder has one, but for the
// escaped lone surrogates that Decoder takes as U+FFFD and the depth past
// which it gives up.
func FuzzLexer(f *testing.F) {
	for _, s := range []string{
		`{}`, `[1,-2.5e+3,0,true,false,null,"x\u00e9\n\ud83e\udd80",{"b":{}},[]]`, `{"a":1,}`, `[01]`,
		`"\ud800"`, `{"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`, `{"__metadata__":{"a":"b"}} `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if !utf8.Valid(text) {
			return // parseHeader checks UTF-8 before lexing
		}
		mine, myErr := lexFirstValue(text)
		theirs, theirErr := decodeValue(text)
		if myErr != nil && strings.Contains(myErr.Error(), "surrogate") ||
			theirErr != nil && strings.Contains(theirErr.Error(), "exceeded max depth") {
			return
		}
		if (myErr == nil) != (theirErr == nil) {
			t.Fatalf("%q: the lexer says %v, encoding/json %v", text, myErr, theirErr)
		}
		if myErr == nil && !slices.Equal(mine, theirs) {
			t.Fatalf("%q: the lexer reads\n%q\nencoding/json\n%q", text, mine, theirs)
		}
	})
}

// BenchmarkReadHeader reads a header of many small tensors, the worst
// case of work per header byte.
func BenchmarkReadHeader(b *testing.B) {
	var s strings.Builder
	s.WriteString("{")
	for i := 0; s.Len() < 1<<20; i++ {
		if i > 0 {
			s.WriteString(",")
		}
		fmt.Fprintf(&s, `"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`, i)
	}
	s.WriteString("}")
	data := padded(s.String(), nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadHeader(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
