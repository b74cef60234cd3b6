package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparsekit/l0/kernel"
)

// A plan is how a run counts its inputs.
type plan struct {
	s       settings
	workers int  // -j: the goroutines counting at once
	total   bool // a total over all inputs is wanted (-total, -save, -sparsity)
	perFile bool // each input is reported (not -total, or -per-file)
	p       *progress
}

// totalOnly reports whether inputs are counted into the total alone, with
// no report of their own: each worker then counts every row it reads into
// one tally, whatever the input, and the tallies merge at the end.
func (pl *plan) totalOnly() bool { return pl.total && !pl.perFile }

// A source opens one input: a file by name, or the built-in sample.
type source struct {
	name string
	open func() (*input, error)
}

// An entry is one input as the run goes: opened by the dispatcher, its
// row ranges counted by the workers, reported in order.
type entry struct {
	src     source
	in      *input
	done    chan struct{} // closed when the input is counted, or failed
	pending atomic.Int64  // jobs not finished

	mu       sync.Mutex
	err      error // the first error: the input is bad
	tally    tally // the input's own counts, when reported per file
	began    time.Time
	finished time.Time
	skipped  bool  // not counted: the total had already failed
	apart    error // counted, but it does not join the total (per-file reports)
}

func (e *entry) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

// A job is a range of rows of one input (all of a stream or a state).
// maxWorkers bounds -j: a worker is a goroutine and, while it counts, a
// buffer and a set of counters, so a number past any machine's cores
// would only cost memory (-j 99999999999 ran out of it, starting
// goroutines).
const maxWorkers = 1024

type job struct {
	e        *entry
	from, to int64
}

// outcome is what a run leaves: the total's tally and report, when one
// was wanted and every input went into it.
type outcome struct {
	status int   // 0, or 1 when an input failed
	total  tally // nil when there is none
	report *report
	err    error // why there is no total
}

// run counts the sources and calls reported with each input's report, in
// the order of the sources, and failed with each input's error. A write
// error from reported ends the run.
//
// One goroutine opens the inputs in order (their headers decide what
// their rows are, and whether they go with the total), and splits each
// file into ranges of rows; pl.workers goroutines count the ranges, each
// into its own tally, read at offsets; the caller's goroutine waits for
// the inputs in order, merges their tallies and reports them. At most
// 2 × workers + 2 inputs are open at once.
func (pl *plan) run(sources []source, reported func(*report) error, failed func(string, error)) outcome {
	start := time.Now()
	entries := make([]*entry, len(sources))
	for i, src := range sources {
		entries[i] = &entry{src: src, done: make(chan struct{})}
	}
	inFlight := 2*pl.workers + 2
	slots := make(chan struct{}, inFlight)
	ordered := make(chan *entry, inFlight)
	jobs := make(chan job, 2*pl.workers)
	var totalFailed, stop atomic.Bool

	go pl.dispatch(entries, slots, ordered, jobs, &totalFailed, &stop)

	var wg sync.WaitGroup
	locals := make([]tally, pl.workers)
	for w := range pl.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			locals[w] = pl.work(jobs, &totalFailed, &stop)
		}()
	}

	out := outcome{}
	var total tally
	var totalErr error
	var files []string
	var bytes int64
	for e := range ordered {
		<-e.done
		pl.p.fileDone()
		switch {
		case e.err != nil:
			failed(e.src.name, e.err)
			out.status = 1
			totalFailed.Store(true)
		case e.skipped:
		default:
			files = append(files, e.src.name)
			bytes += e.in.dataBytes
			if pl.perFile && out.err == nil {
				rep := newReport(e.in, pl.s)
				rep.elapsed = e.finished.Sub(e.began)
				err := e.tally.summarize(rep)
				switch {
				case err != nil:
					failed(e.src.name, err)
					out.status = 1
					totalFailed.Store(true)
				default:
					err = reported(rep)
					if isReportError(err) {
						failed(e.src.name, err) // this report only
						out.status = 1
					} else if err != nil {
						out.err = err // the output failed: stop
						stop.Store(true)
					}
				}
			}
			if e.apart != nil {
				failed(e.src.name, e.apart)
				out.status = 1
				totalFailed.Store(true)
			}
			if pl.total && pl.perFile && !totalFailed.Load() {
				if total == nil {
					total = e.tally
				} else if err := total.merge(e.tally); err != nil {
					totalErr = err
					totalFailed.Store(true)
				}
			}
		}
		if e.tally != nil {
			e.tally = nil
			collect(e.in.config) // the report's copy of its counts
		}
		<-slots
	}
	wg.Wait()
	if out.err != nil {
		return out
	}
	if !pl.total {
		return out
	}
	if pl.totalOnly() && !totalFailed.Load() {
		for i, t := range locals {
			switch {
			case t == nil:
			case total == nil:
				total = t
			default:
				collect(t.config()) // the workers' buffers, the last merge's copy
				if err := total.merge(t); err != nil && totalErr == nil {
					totalErr = err
				}
			}
			locals[i] = nil
		}
		if total != nil {
			collect(total.config())
		}
	}
	switch {
	case totalErr != nil:
		out.err, out.status = fmt.Errorf("no total: %w", totalErr), 1
		return out
	case out.status != 0:
		out.err = fmt.Errorf("no total: %d of %d inputs failed, and a total without them would be a wrong number", countFailed(entries), len(entries))
		return out
	case total == nil:
		out.err, out.status = fmt.Errorf("no total: no input"), 1
		return out
	}
	rep := &report{name: "total", format: "total", settings: pl.s, level: kernel.Active(), files: files, bytes: bytes}
	rep.config = total.config()
	rep.elapsed = time.Since(start)
	if err := total.summarize(rep); err != nil {
		out.err, out.status = fmt.Errorf("no total: %w", err), 1
		return out
	}
	rep.describeTotal(entries)
	out.total, out.report = total, rep
	collect(rep.config) // the report's copy of the counts
	return out
}

// bigCounters is the number of counters (8 bytes each) from which a run
// collects its garbage between its phases, and returns it to the OS: the
// copies of the counts that merging, reporting and saving make (and the
// workers' buffers) would otherwise stay resident beside the next ones,
// doubling the peak memory of a state of millions of features.
const bigCounters = 1 << 21

// collect frees the garbage if tallies of the config are big.
func collect(c config) {
	if max(c.components, 1)*c.features >= bigCounters {
		debug.FreeOSMemory()
	}
}

func countFailed(entries []*entry) int {
	n := 0
	for _, e := range entries {
		if e.err != nil || e.apart != nil {
			n++
		}
	}
	return n
}

// dispatch opens the inputs in order, checks each goes with the total,
// and hands their row ranges to the workers.
func (pl *plan) dispatch(entries []*entry, slots chan struct{}, ordered chan<- *entry, jobs chan<- job, totalFailed, stop *atomic.Bool) {
	defer close(ordered)
	defer close(jobs)
	var first *entry // the first input opened: what the total is
	for _, e := range entries {
		slots <- struct{}{}
		ordered <- e
		if stop.Load() {
			e.skipped = true
			close(e.done)
			continue
		}
		in, err := e.src.open()
		if err != nil {
			e.err = err
			close(e.done)
			continue
		}
		e.in = in
		if pl.total {
			if first == nil {
				first = e
			} else if in.config != first.in.config {
				err := fmt.Errorf("does not join the total: %s, where %s has %s", in.config.describe(), displayName(first.src.name), first.in.config.describe())
				if !pl.perFile {
					in.close()
					e.err = err
					close(e.done)
					continue
				}
				e.apart = err
			}
		}
		if pl.totalOnly() && totalFailed.Load() {
			// The total has failed: the input is checked (its header, its
			// size), not counted.
			in.close()
			e.skipped = true
			close(e.done)
			continue
		}
		ranges := pl.split(in)
		e.pending.Store(int64(len(ranges)))
		for _, r := range ranges {
			jobs <- job{e: e, from: r[0], to: r[1]}
		}
	}
}

// The bytes of a range of rows a worker counts at once: a file is split
// into about one range per worker, within these bounds, so that small
// files stay whole, and a large one keeps every worker busy to its end.
// (Vars, for the tests.)
var (
	minRangeBytes int64 = 16 << 20
	maxRangeBytes int64 = 64 << 20
)

// split returns the row ranges of an input: a stream or a state is one.
func (pl *plan) split(in *input) [][2]int64 {
	rows, rowBytes := in.layout.Rows, in.layout.RowBytes
	if in.src == nil || rowBytes == 0 {
		return [][2]int64{{0, rows}}
	}
	size := max(minRangeBytes, min(maxRangeBytes, in.dataBytes/int64(pl.workers)))
	// Merging a range's tally costs a pass over its counters: keep it a
	// small part of the range's work.
	size = max(size, 4*8*int64(max(in.config.components, 1)*in.config.features))
	per := max(1, size/rowBytes)
	var ranges [][2]int64
	for from := int64(0); from < rows; from += per {
		ranges = append(ranges, [2]int64{from, min(rows, from+per)})
	}
	return ranges
}

// work counts jobs until there are none. Counting into the total alone, it
// keeps one tally for every job and returns it; otherwise each job is
// counted into a tally of its own, which becomes its input's or is merged
// into it as the job ends (so that no input waits on a worker for its
// counts), and is then kept, reset, for the next job of the same config.
func (pl *plan) work(jobs <-chan job, totalFailed, stop *atomic.Bool) tally {
	c := newCounter(pl.p)
	var local, spare tally
	for j := range jobs {
		e := j.e
		e.mu.Lock()
		if e.began.IsZero() {
			e.began = time.Now()
		}
		e.mu.Unlock()
		var t tally
		get := func() (tally, error) {
			var err error
			switch {
			case pl.totalOnly() && local == nil:
				local, err = newTally(e.in.config, pl.s.rule)
				t = local
			case pl.totalOnly():
				t = local
			case spare != nil && spare.config() == e.in.config:
				t, spare = spare, nil
			default:
				t, err = newTally(e.in.config, pl.s.rule)
			}
			return t, err
		}
		var err error
		if !stop.Load() && !(pl.totalOnly() && totalFailed.Load()) {
			err = c.count(e.in, j.from, j.to, get)
		}
		if err != nil {
			e.fail(err)
			if pl.total {
				totalFailed.Store(true)
			}
		}
		if !pl.totalOnly() && t != nil && err == nil {
			e.mu.Lock()
			if e.tally == nil {
				e.tally = t
			} else {
				if err := e.tally.merge(t); err != nil && e.err == nil {
					e.err = err
				}
				t.reset()
				spare = t
			}
			e.mu.Unlock()
		}
		if e.pending.Add(-1) == 0 {
			e.in.close()
			e.mu.Lock()
			e.finished = time.Now()
			if e.tally == nil && e.err == nil && !pl.totalOnly() {
				e.skipped = true // stopped before it was counted
			}
			e.mu.Unlock()
			close(e.done)
		}
	}
	return local
}

// analyze reads one input from r (size bytes, or -1 for a stream; when
// size is known r must be an io.ReaderAt) and returns its report, counted
// by one worker as a run counts a file. Every problem with the input is an
// error; nothing in it can make analyze panic or allocate much more than
// it holds.
func analyze(name string, r io.Reader, size int64, s settings, p *progress) (*report, error) {
	pl := &plan{s: s, workers: 1, perFile: true, p: p}
	var rep *report
	var err error
	pl.run([]source{{name: name, open: func() (*input, error) { return openInput(name, r, size, s) }}},
		func(r *report) error { rep = r; return nil },
		func(_ string, e error) { err = e })
	return rep, err
}
