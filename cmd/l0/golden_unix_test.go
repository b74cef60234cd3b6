//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

const haveFIFO = true

func mkfifo(path string) error { return unix.Mkfifo(path, 0o666) }

// openFIFOReader opens a named pipe for reading without waiting for a
// writer.
func openFIFOReader(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
}
