package input

import (
	"fmt"
	"os"
)

// CheckStreams refuses a path that is not a regular file (a pipe,
// /dev/stdin) given more than once, by any name: a stream can be read
// once, and two readers of one pipe would each read bytes from under the
// other.
func CheckStreams(inputs []string) error {
	type seen struct {
		name string
		info os.FileInfo
	}
	var streams []seen
	for _, name := range inputs {
		info, err := os.Stat(name)
		if err != nil || info.Mode().IsRegular() || info.IsDir() {
			continue
		}
		for _, s := range streams {
			if os.SameFile(s.info, info) {
				also := ""
				if s.name != name {
					also = " (as " + DisplayName(s.name) + ")"
				}
				return fmt.Errorf("%s is given twice%s, and is not a regular file: a stream can be read once; give it once", DisplayName(name), also)
			}
		}
		streams = append(streams, seen{name, info})
	}
	return nil
}
