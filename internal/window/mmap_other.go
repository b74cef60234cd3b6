//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package window

import "io"

const canMap = false

func mappableFD(io.ReaderAt) int { return -1 }

func (r *Reader) mapped(Layout, int64, int64, func(int64, []byte) error) error { return errNoMap }
