package report

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparsekit/l0/internal/input"
)

// Progress shows, on a terminal, how far the whole run has gone: the
// bytes counted of all inputs, the inputs done, the rate. Short runs show
// nothing: the line appears once the run has taken progressDelay, is
// redrawn every progressInterval, and is erased at the end. A nil
// *Progress shows nothing at all. Workers add to it at once.
type Progress struct {
	w     io.Writer
	name  string // the input, when there is one
	total int64  // the bytes of the inputs of known size
	files int64
	read  atomic.Int64
	done  atomic.Int64
	began time.Time

	mu      sync.Mutex
	visible bool
	stop    chan struct{}
	stopped chan struct{}
}

const (
	progressDelay    = time.Second
	progressInterval = 250 * time.Millisecond
)

// NewProgress returns a progress writing to f if f is a terminal, or nil.
func NewProgress(f *os.File) *Progress {
	if !isTerminal(f) {
		return nil
	}
	return &Progress{w: f}
}

// Start begins a run of the named inputs, of total bytes in all (those of
// unknown size aside), and draws the line until Finish.
func (p *Progress) Start(names []string, total int64) {
	if p == nil {
		return
	}
	p.total, p.files, p.began = total, int64(len(names)), time.Now()
	if len(names) == 1 {
		p.name = input.DisplayName(names[0])
	}
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case now := <-t.C:
				p.draw(now)
			}
		}
	}()
}

// Add counts n bytes read.
func (p *Progress) Add(n int64) {
	if p != nil {
		p.read.Add(n)
	}
}

// FileDone counts an input done.
func (p *Progress) FileDone() {
	if p != nil {
		p.done.Add(1)
	}
}

// line is the progress line at now.
func (p *Progress) line(now time.Time) string {
	read := p.read.Load()
	rate := formatBytes(float64(read)/max(now.Sub(p.began).Seconds(), 1e-9)) + "/s"
	amount := formatBytes(float64(read)) + " read"
	if p.total > 0 {
		amount = fmt.Sprintf("%3.0f%% of %s", 100*float64(read)/float64(p.total), formatBytes(float64(p.total)))
	}
	if p.files == 1 {
		return fmt.Sprintf("l0: %s: %s, %s", p.name, amount, rate)
	}
	return fmt.Sprintf("l0: %d of %d inputs, %s, %s", p.done.Load(), p.files, amount, rate)
}

// draw redraws the line, once the run has taken progressDelay.
func (p *Progress) draw(now time.Time) {
	if now.Sub(p.began) < progressDelay {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.visible = true
	fmt.Fprintf(p.w, "\r\x1b[K%s", p.line(now))
}

// Erase erases the line, if it is drawn, before other output; the next
// tick draws it again.
func (p *Progress) Erase() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.visible {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.visible = false
	}
}

// Finish stops drawing and erases the line.
func (p *Progress) Finish() {
	if p == nil || p.stop == nil {
		return
	}
	close(p.stop)
	<-p.stopped
	p.stop = nil
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.visible {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.visible = false
	}
}
