//go:build !unix

package main

import (
	"errors"
	"os"
)

const haveFIFO = false

func mkfifo(string) error { return errors.New("no named pipes") }

func openFIFOReader(string) (*os.File, error) { return nil, errors.New("no named pipes") }
