package report

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestProgress checks the progress line appears only after progressDelay,
// says how far the run is, and is erased at the end.
func TestProgress(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := &Progress{w: &b}
	p.Start([]string{"big.npy"}, 1000)
	p.Add(100)
	p.draw(p.began.Add(progressDelay / 2))
	if b.Len() != 0 {
		t.Fatalf("progress before the delay: %q", b.String())
	}
	p.Add(400)
	p.draw(p.began.Add(2 * progressDelay))
	if got := b.String(); !strings.HasPrefix(got, "\r\x1b[Kl0: big.npy:  50% of 1 kB, ") || !strings.HasSuffix(got, "B/s") {
		t.Errorf("progress line %q", got)
	}
	// Erased before other output, drawn again on the next tick.
	p.Erase()
	if !strings.HasSuffix(b.String(), "B/s\r\x1b[K") {
		t.Errorf("progress not erased before output: %q", b.String())
	}
	p.draw(p.began.Add(3 * progressDelay))
	p.Finish()
	if !strings.HasSuffix(b.String(), "B/s\r\x1b[K") || strings.Count(b.String(), "l0: big.npy") != 2 {
		t.Errorf("progress not erased: %q", b.String())
	}
	// Many inputs: how many are done, of all the bytes.
	b.Reset()
	p = &Progress{w: &b}
	p.Start([]string{"a", "b", "c"}, 3000)
	p.Add(1500)
	p.FileDone()
	if got := p.line(p.began.Add(time.Second)); !strings.HasPrefix(got, "l0: 1 of 3 inputs,  50% of 3 kB, 1.5 kB/s") {
		t.Errorf("progress line %q", got)
	}
	p.Finish()
	if b.Len() != 0 {
		t.Errorf("a short run drew %q", b.String())
	}
	// Streams of unknown size: the bytes read.
	p = &Progress{w: &b}
	p.Start([]string{"/dev/stdin"}, 0)
	p.Add(2000)
	if got := p.line(p.began.Add(time.Second)); got != "l0: /dev/stdin: 2 kB read, 2 kB/s" {
		t.Errorf("progress line %q", got)
	}
	p.Finish()
	var none *Progress // not a terminal
	none.Start([]string{"x"}, 1)
	none.Add(1)
	none.FileDone()
	none.Erase()
	none.Finish()
	if isTerminal(os.Stdin) && isTerminal(os.Stdout) && isTerminal(os.Stderr) {
		t.Log("running on a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) || NewProgress(f) != nil {
		t.Error("a regular file taken for a terminal")
	}
	if null, err := os.Open(os.DevNull); err == nil {
		defer null.Close()
		if runtime.GOOS == "linux" && isTerminal(null) {
			t.Error("/dev/null taken for a terminal")
		}
	}
}
