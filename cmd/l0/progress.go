package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress shows, on a terminal, how far the current file has been read.
// Short files show nothing: the line appears once a file has taken
// progressDelay, and is erased when it is done. A nil *progress shows
// nothing at all.
type progress struct {
	w            io.Writer
	name         string
	total, read  int64
	began, shown time.Time
	visible      bool
}

const (
	progressDelay    = time.Second
	progressInterval = 250 * time.Millisecond
)

// newProgress returns a progress writing to f if f is a terminal, or nil.
func newProgress(f *os.File) *progress {
	if !isTerminal(f) {
		return nil
	}
	return &progress{w: f}
}

func (p *progress) start(name string, total int64) {
	if p == nil {
		return
	}
	p.name, p.total, p.read, p.began, p.visible = name, total, 0, time.Now(), false
}

func (p *progress) add(n int64) {
	if p == nil {
		return
	}
	p.read += n
	now := time.Now()
	if now.Sub(p.began) < progressDelay || now.Sub(p.shown) < progressInterval {
		return
	}
	p.shown, p.visible = now, true
	rate := float64(p.read) / now.Sub(p.began).Seconds()
	fmt.Fprintf(p.w, "\r\x1b[Kl0: %s: %3.0f%% of %s, %s/s", p.name,
		100*float64(p.read)/float64(max(p.total, 1)), formatBytes(float64(p.total)), formatBytes(rate))
}

func (p *progress) done() {
	if p == nil || !p.visible {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
	p.visible = false
}
