package input

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DisplayName returns a name (a file's path, a tensor's name) as messages
// and text reports show it: as it is when it is valid UTF-8 of printable
// characters, else quoted as Go quotes a string ("a\nb", "a\xffb"), so
// that a message stays one line and says which bytes the name holds. A
// name that starts with a double quote, or is empty, is quoted too, so
// that a quoted name is never taken for a raw one.
func DisplayName(s string) string {
	if s != "" && s[0] != '"' && utf8.ValidString(s) && strings.IndexFunc(s, notPrintable) < 0 {
		return s
	}
	return strconv.Quote(s)
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }

// Pathless drops the path from an os error: the message names the file
// already (as DisplayName shows it).
func Pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}
