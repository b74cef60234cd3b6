package main

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// displayName returns a name (a file's path, a tensor's name) as messages
// and text reports show it: as it is when it is valid UTF-8 of printable
// characters, else quoted as Go quotes a string ("a\nb", "a\xffb"), so
// that a message stays one line and says which bytes the name holds. A
// name that starts with a double quote, or is empty, is quoted too, so
// that a quoted name is never taken for a raw one.
func displayName(s string) string {
	if s != "" && s[0] != '"' && utf8.ValidString(s) && strings.IndexFunc(s, notPrintable) < 0 {
		return s
	}
	return strconv.Quote(s)
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }
