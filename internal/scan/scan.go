// Package scan counts a run's inputs: one goroutine opens them in order,
// splits each into ranges of rows, and Config.Workers goroutines count the
// ranges, each into its own tally; the inputs come out in the order given,
// each with its counts, as its last range is counted. What is configured
// is passed in a Config: the package has no state of its own.
//
// It decides nothing about reports or exit statuses: the caller reads the
// inputs (Scan.Inputs) and reports them, and says when the total has failed
// (Scan.FailTotal) or the output has (Scan.Stop).
package scan

import (
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/metric"
)

// MaxWorkers bounds Config.Workers: a worker is a goroutine and, while it
// counts, a buffer and a set of counters, so a number past any machine's
// cores would only cost memory (-j 99999999999 ran out of it, starting
// goroutines).
const MaxWorkers = 1024

// The bytes of a range of rows a worker counts at once, by default: a file
// is split into about one range per worker, within these bounds, so that
// small files stay whole, and a large one keeps every worker busy to its
// end.
const (
	DefaultMinRangeBytes = 16 << 20
	DefaultMaxRangeBytes = 64 << 20
)

// Config is how a scan counts.
type Config struct {
	Workers int         // the goroutines counting at once, 1 to MaxWorkers
	Rule    metric.Rule // the rule of counting
	// Total: the inputs make one total, so each must have the first's
	// config; one that does not is an input's error (or, with PerInput,
	// counted but apart).
	Total bool
	// PerInput: each input is counted into its own tally, which comes out
	// with it; otherwise every row goes into the workers' tallies of the
	// total alone, which Finish merges.
	PerInput bool
	// The bytes of the ranges a file is split into (0: the defaults).
	MinRangeBytes, MaxRangeBytes int64
	Read                         input.ReadConfig // each worker's reading
	// SinceFired: the tallies keep each feature's vectors since it fired
	// (tally.New), which -dead-after, -feature-stats and -save need.
	SinceFired bool
	Progress   Progress // nil: none
}

// Progress is told how far a scan has gone.
type Progress interface {
	Add(bytes int64) // bytes of rows counted
	FileDone()       // an input came out
}

// A Source opens one input: a file by name, or the built-in sample.
type Source struct {
	Name string
	Open func() (*input.Input, error)
}

// An Input is one input as the scan gives it out, in order.
type Input struct {
	Name    string
	Input   *input.Input  // nil when it could not be opened
	Tally   tally.Tally   // its counts (PerInput), nil otherwise
	Err     error         // it could not be opened, or counted
	Apart   error         // counted (PerInput) but it does not join the total
	Skipped bool          // not counted: the scan stopped, or the total failed
	Elapsed time.Duration // from its first range to its last
}

// A Scan is a run of the workers over the sources.
type Scan struct {
	c       Config
	entries []*entry
	ordered chan *entry
	slots   chan struct{}
	wg      sync.WaitGroup
	total   *chain // the ranges of every input (not PerInput), in order
	seq     int64  // the ranges numbered so far, by the dispatcher

	totalFailed, stop atomic.Bool
}

// An entry is one input as the scan goes: opened by the dispatcher, its
// row ranges counted by the workers, given out in order.
type entry struct {
	src     Source
	in      *input.Input
	done    chan struct{} // closed when the input is counted, or failed
	pending atomic.Int64  // jobs not finished

	first  int64  // the number of its first range
	ranges *chain // its ranges, in order (PerInput)

	mu       sync.Mutex
	err      error       // the first error: the input is bad
	tally    tally.Tally // the input's own counts (PerInput)
	began    time.Time
	finished time.Time
	skipped  bool  // not counted
	apart    error // counted, but it does not join the total
}

func (e *entry) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

// A job is a range of rows of one input (all of a stream or a state).
type job struct {
	e        *entry
	from, to int64
	seq      int64 // the range's number, in the order of the rows
}

// Start starts counting the sources. At most 2 × workers + 2 inputs are
// open at once; the caller must read every input from Inputs, then call
// Finish.
func Start(sources []Source, c Config) *Scan {
	if c.MinRangeBytes <= 0 {
		c.MinRangeBytes = DefaultMinRangeBytes
	}
	if c.MaxRangeBytes <= 0 {
		c.MaxRangeBytes = DefaultMaxRangeBytes
	}
	if c.Progress == nil {
		c.Progress = noProgress{}
	}
	c.Read.Progress = c.Progress.Add
	c.Read.SinceFired = c.SinceFired
	s := &Scan{c: c, entries: make([]*entry, len(sources)), total: newChain()}
	for i, src := range sources {
		s.entries[i] = &entry{src: src, done: make(chan struct{})}
	}
	inFlight := 2*c.Workers + 2
	s.slots = make(chan struct{}, inFlight)
	s.ordered = make(chan *entry, inFlight)
	jobs := make(chan job, 2*c.Workers)
	go s.dispatch(jobs)
	for range c.Workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.work(jobs)
		}()
	}
	return s
}

type noProgress struct{}

func (noProgress) Add(int64) {}
func (noProgress) FileDone() {}

// totalOnly reports whether inputs are counted into the total alone, with
// no tally of their own: each worker then counts every row it reads into
// one tally, whatever the input, and the tallies merge at the end.
func (s *Scan) totalOnly() bool { return s.c.Total && !s.c.PerInput }

// FailTotal says the total has failed: with no tallies per input, the
// inputs not counted yet are opened and checked, not counted.
func (s *Scan) FailTotal() { s.totalFailed.Store(true) }

// failTotal notes a bad input: it fails the total, if there is one.
func (s *Scan) failTotal() {
	if s.c.Total {
		s.totalFailed.Store(true)
	}
}

// TotalFailed reports whether the total has failed: FailTotal was called,
// or an input was bad.
func (s *Scan) TotalFailed() bool { return s.totalFailed.Load() }

// Stop says the output has failed: nothing more is counted.
func (s *Scan) Stop() { s.stop.Store(true) }

// Inputs returns the inputs in the order of the sources, each as it is
// counted. An input that fails fails the total (Config.Total), as one
// that does not join it does, as soon as it is known.
func (s *Scan) Inputs() iter.Seq[*Input] {
	return func(yield func(*Input) bool) {
		for e := range s.ordered {
			<-e.done
			s.c.Progress.FileDone()
			out := &Input{Name: e.src.Name, Input: e.in, Tally: e.tally, Err: e.err, Apart: e.apart, Skipped: e.skipped, Elapsed: e.finished.Sub(e.began)}
			e.tally = nil // the caller's now
			ok := yield(out)
			<-s.slots
			if !ok {
				s.stop.Store(true)
				for range s.ordered {
					<-s.slots
				}
				return
			}
		}
	}
}

// Finish waits for the workers, and returns the total's tally of the
// workers' (with no tallies per input): nil when the total has failed or
// there was none to count.
func (s *Scan) Finish() (tally.Tally, error) {
	s.wg.Wait()
	if !s.totalOnly() || s.totalFailed.Load() || s.stop.Load() {
		return nil, nil
	}
	return s.total.result(0)
}

// dispatch opens the inputs in order, checks each goes with the total,
// and hands their row ranges to the workers.
func (s *Scan) dispatch(jobs chan<- job) {
	defer close(s.ordered)
	defer close(jobs)
	var first *entry // the first input opened: what the total is
	for _, e := range s.entries {
		s.slots <- struct{}{}
		s.ordered <- e
		if s.stop.Load() {
			e.skipped = true
			close(e.done)
			continue
		}
		in, err := e.src.Open()
		if err != nil {
			e.err = err
			s.failTotal()
			close(e.done)
			continue
		}
		e.in = in
		if s.c.Total {
			if first == nil {
				first = e
			} else if in.Config != first.in.Config {
				err := fmt.Errorf("does not join the total: %s, where %s has %s", in.Config.Describe(), input.DisplayName(first.src.Name), first.in.Config.Describe())
				s.failTotal()
				if !s.c.PerInput {
					in.Close()
					e.err = err
					close(e.done)
					continue
				}
				e.apart = err
			}
		}
		if s.totalOnly() && s.totalFailed.Load() {
			// The total has failed: the input is checked (its header, its
			// size), not counted.
			in.Close()
			e.skipped = true
			close(e.done)
			continue
		}
		ranges := s.split(in)
		e.pending.Store(int64(len(ranges)))
		e.first, e.ranges = s.seq, newChain()
		for _, r := range ranges {
			jobs <- job{e: e, from: r[0], to: r[1], seq: s.seq}
			s.seq++
		}
	}
}

// split returns the row ranges of an input: a stream or a state is one.
func (s *Scan) split(in *input.Input) [][2]int64 {
	rows, rowBytes, split := in.Span()
	if !split || rowBytes == 0 {
		return [][2]int64{{0, rows}}
	}
	size := max(s.c.MinRangeBytes, min(s.c.MaxRangeBytes, in.DataBytes/int64(s.c.Workers)))
	// A range's tally costs about 40 bytes of memory traffic per counter
	// (its counters made or cleared, page faults, the merge): keep it a
	// small part of the range's reading, 256 bytes of rows per counter. A
	// file of few wide rows ([64, 2^20] float32) is then one range, or a
	// few: as 4 ranges of 16 rows its tallies cost as much as its reading.
	size = max(size, 32*8*int64(in.Config.Counters()))
	per := max(1, size/rowBytes)
	var ranges [][2]int64
	for from := int64(0); from < rows; from += per {
		ranges = append(ranges, [2]int64{from, min(rows, from+per)})
	}
	return ranges
}

// work counts jobs until there are none. Each job is counted into a tally
// of its own, which joins its neighbours in the order of the rows (chain):
// its input's ranges, or, counting into the total alone, every input's; a
// tally merged into another's is kept, reset, for the next job of the same
// config.
func (s *Scan) work(jobs <-chan job) {
	w := input.NewWorker(s.c.Read)
	var spare tally.Tally
	for j := range jobs {
		e := j.e
		e.mu.Lock()
		if e.began.IsZero() {
			e.began = time.Now()
		}
		e.mu.Unlock()
		var t tally.Tally
		get := func() (tally.Tally, error) {
			var err error
			switch {
			case spare != nil && spare.Config() == e.in.Config:
				t, spare = spare, nil
			default:
				t, err = tally.New(e.in.Config, s.c.Rule, s.c.SinceFired)
			}
			return t, err
		}
		var err error
		if !s.stop.Load() && !(s.totalOnly() && s.totalFailed.Load()) {
			err = e.in.Count(w, j.from, j.to, get)
		}
		if err != nil {
			e.fail(err)
			s.failTotal()
		}
		if t != nil && err == nil {
			c := e.ranges
			if s.totalOnly() {
				c = s.total
			}
			if freed := c.add(j.seq, t); len(freed) > 0 {
				spare = freed[0]
			}
		}
		if e.pending.Add(-1) == 0 {
			e.in.Close()
			e.mu.Lock()
			if !s.totalOnly() {
				t, err := e.ranges.result(e.first)
				if err != nil && e.err == nil {
					e.err = err
				}
				if e.err == nil {
					e.tally = t
				}
			}
			e.finished = time.Now()
			if e.tally == nil && e.err == nil && !s.totalOnly() {
				e.skipped = true // stopped before it was counted
			}
			e.mu.Unlock()
			close(e.done)
		}
	}
}
