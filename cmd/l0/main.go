package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/report"
	"github.com/sparsekit/l0/internal/scan"
	"github.com/sparsekit/l0/internal/tally"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, report.NewProgress(os.Stderr)))
}

// run is the program: it returns the exit status, 0 when every input was
// reported, 1 when one was not (or the total failed), 2 for a bad command
// line. p shows the progress of a long run (nil: none).
func run(args []string, stdout, stderr io.Writer, p *report.Progress) int {
	o, err := parseOptions(args)
	var fe flagError
	switch {
	case errors.Is(err, flag.ErrHelp):
		writeUsage(stderr)
		return 0
	case errors.As(err, &fe):
		fmt.Fprintln(stderr, fe.error)
		writeUsage(stderr)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "l0: %v\n", err)
		return 2
	case o.kernels:
		return exitStatus(stderr, report.Kernels(stdout))
	}
	if err := checkPaths(o); err != nil {
		fmt.Fprintf(stderr, "l0: %v\n", err)
		return 2
	}
	return execute(o, stdout, stderr, p)
}

// checkPaths refuses, before anything is read, the outputs that would
// destroy an input and the streams given twice.
func checkPaths(o options) error {
	inputs := o.files
	if o.input.TokensFile != "" {
		inputs = append(inputs[:len(inputs):len(inputs)], o.input.TokensFile)
	}
	outputs := []report.Output{{Flag: "-save", Path: o.save}, {Flag: "-sparsity", Path: o.sparsity}, {Flag: "-feature-stats", Path: o.featureStats}}
	if err := report.CheckOutputs(outputs, inputs); err != nil {
		return err
	}
	return input.CheckStreams(o.files)
}

// exitStatus reports an error writing the output.
func exitStatus(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "l0: %v\n", err)
		return 1
	}
	return 0
}

// sources returns the inputs of the run, and the bytes of those of known
// size: the files named, or the built-in sample.
func (o options) sources() ([]scan.Source, int64) {
	if len(o.files) == 0 {
		data := input.Sample()
		return []scan.Source{{Name: input.SampleName, Open: func() (*input.Input, error) {
			return input.OpenSample(data, o.input)
		}}}, 0
	}
	var sources []scan.Source
	var known int64
	for _, name := range o.files {
		sources = append(sources, scan.Source{Name: name, Open: func() (*input.Input, error) { return input.Open(name, o.input) }})
		if info, err := os.Stat(name); err == nil && info.Mode().IsRegular() {
			known += info.Size()
		}
	}
	return sources, known
}

// A printer writes the reports to stdout, a blank line between text
// reports, and the errors to stderr, each erasing the progress line first.
type printer struct {
	stdout, stderr io.Writer
	json           bool
	progress       *report.Progress
	written        int
}

// report writes an input's report.
func (w *printer) report(r *report.Report) error {
	w.progress.Erase()
	if err := w.separate(); err != nil {
		return err
	}
	w.written++
	return w.write(r)
}

// separate writes the blank line between text reports.
func (w *printer) separate() error {
	if w.written == 0 || w.json {
		return nil
	}
	_, err := fmt.Fprintln(w.stdout)
	return err
}

func (w *printer) write(r *report.Report) error {
	if w.json {
		return report.JSON(w.stdout, r)
	}
	return report.Text(w.stdout, r)
}

func (w *printer) fail(name string, err error) {
	w.progress.Erase()
	fmt.Fprintf(w.stderr, "l0: %s: %v\n", input.DisplayName(name), err)
}

// execute counts the inputs, reports them, and writes the total and its
// files.
func execute(o options, stdout, stderr io.Writer, p *report.Progress) int {
	start := time.Now()
	sources, known := o.sources()
	if len(o.files) == 0 {
		p = nil // the sample is counted at once
	}
	out := &printer{stdout: stdout, stderr: stderr, json: o.json, progress: p}
	c := o.scanConfig()
	if p != nil {
		c.Progress = p
	}
	p.Start(o.files, known)
	sc := scan.Start(sources, c)
	t := &totaller{o: o, formats: map[string]int{}}
	status, outErr := reportInputs(o, sc, out, t)
	workers, err := sc.Finish()
	p.Finish()
	switch {
	case outErr != nil && !o.wantsTotal():
		return exitStatus(stderr, outErr)
	case !o.wantsTotal():
		return status
	}
	if workers != nil {
		release(workers.Config()) // the workers' buffers and tallies, merged
		t.tally = workers
	}
	if err != nil && t.err == nil {
		t.err = err
	}
	rep, err := t.report(status, len(sources), start)
	if outErr != nil {
		err = outErr
	}
	if err != nil {
		// Each thing asked for that is not made is named.
		if o.total {
			fmt.Fprintf(stderr, "l0: -total: %v\n", err)
		}
		if o.save != "" {
			fmt.Fprintf(stderr, "l0: %s: %v\n", join("-save", o.save), err)
		}
		if o.sparsity != "" {
			fmt.Fprintf(stderr, "l0: %s: %v\n", join("-sparsity", o.sparsity), err)
		}
		if o.featureStats != "" {
			fmt.Fprintf(stderr, "l0: %s: %v\n", join("-feature-stats", o.featureStats), err)
		}
		return max(status, 1)
	}
	return writeTotal(o, out, rep, t.tally)
}

// reportInputs reports each input as the scan gives it out (without
// -total, or with -per-file), names each bad one, and gives those that go
// into the total to t. It returns the exit status so far, and the error of
// the output if it failed (which stops the scan).
func reportInputs(o options, sc *scan.Scan, out *printer, t *totaller) (status int, outErr error) {
	for in := range sc.Inputs() {
		if in.Err != nil {
			out.fail(in.Name, in.Err)
			status = 1
			t.failed++
			continue
		}
		if in.Skipped {
			continue
		}
		t.add(in)
		if o.perInput() && outErr == nil {
			rep, err := inputReport(in, o)
			if err != nil {
				out.fail(in.Name, err)
				status = 1
				sc.FailTotal()
			} else if err := out.report(rep); report.IsOneReport(err) {
				out.fail(in.Name, err) // this report only
				status = 1
			} else if err != nil {
				outErr = err
				sc.Stop()
			}
		}
		if in.Apart != nil {
			out.fail(in.Name, in.Apart)
			status = 1
			t.failed++
		}
		if o.wantsTotal() && o.perInput() && !sc.TotalFailed() {
			t.merge(in.Tally, sc)
		}
		if in.Tally != nil || in.Input.Format == input.State {
			release(in.Input.Config) // the input's counts, reported (and merged); a state loaded beside counts
		}
	}
	return status, outErr
}

// inputReport returns the report of an input counted by itself.
func inputReport(in *scan.Input, o options) (*report.Report, error) {
	rep := report.New(in.Input, o.input.Rule, o.dense)
	if o.deadAfterSet {
		rep.DeadAfter = &o.deadAfter
	}
	rep.Elapsed = in.Elapsed
	if err := rep.Summarize(in.Tally); err != nil {
		return nil, err
	}
	return rep, nil
}

// A totaller makes the total of the inputs: their counts merged, their
// names, bytes and formats.
type totaller struct {
	o       options
	tally   tally.Tally
	err     error // why the counts did not merge
	failed  int   // the inputs that failed, or did not join
	files   []string
	bytes   int64
	formats map[string]int
}

// add notes an input counted.
func (t *totaller) add(in *scan.Input) {
	t.files = append(t.files, in.Name)
	t.bytes += in.Input.DataBytes
	t.formats[in.Input.Format]++
}

// merge adds an input's counts to the total's, the first taken as they
// are.
func (t *totaller) merge(counts tally.Tally, sc *scan.Scan) {
	if t.tally == nil {
		t.tally = counts
		return
	}
	if err := t.tally.Merge(counts); err != nil {
		t.err = err
		sc.FailTotal()
	}
}

// report returns the total's report, or why there is none.
func (t *totaller) report(status, inputs int, start time.Time) (*report.Report, error) {
	switch {
	case t.err != nil:
		return nil, fmt.Errorf("no total: %w", t.err)
	case status != 0:
		return nil, fmt.Errorf("no total: %d of %d inputs failed, and a total without them would be a wrong number", t.failed, inputs)
	case t.tally == nil:
		return nil, errors.New("no total: no input")
	}
	rep := report.NewTotal(t.files, t.bytes, t.formats, t.o.input.Rule, t.o.dense)
	if t.o.deadAfterSet {
		rep.DeadAfter = &t.o.deadAfter
	}
	rep.Elapsed = time.Since(start)
	if err := rep.Summarize(t.tally); err != nil {
		return nil, fmt.Errorf("no total: %w", err)
	}
	release(rep.Config) // what merging the inputs left behind (the report reads the counts in place)
	return rep, nil
}

// writeTotal writes the total's report (-total) and files (-save,
// -sparsity), and returns the exit status.
func writeTotal(o options, out *printer, rep *report.Report, counts tally.Tally) int {
	status := 0
	if o.total {
		if err := out.separate(); err != nil {
			return exitStatus(out.stderr, err)
		}
		if err := out.write(rep); err != nil {
			fmt.Fprintf(out.stderr, "l0: -total: %v\n", err)
			status = 1
		}
	}
	if o.save != "" {
		if err := report.SaveState(o.save, counts); err != nil {
			fmt.Fprintf(out.stderr, "l0: %s: %v\n", join("-save", o.save), err)
			status = 1
		}
	}
	if o.sparsity != "" {
		release(rep.Config) // the state -save wrote
		if err := report.SaveSparsity(o.sparsity, counts); err != nil {
			fmt.Fprintf(out.stderr, "l0: %s: %v\n", join("-sparsity", o.sparsity), err)
			status = 1
		}
	}
	if o.featureStats != "" {
		if err := report.SaveFeatureStats(o.featureStats, counts); err != nil {
			fmt.Fprintf(out.stderr, "l0: %s: %v\n", join("-feature-stats", o.featureStats), err)
			status = 1
		}
	}
	return status
}

// bigCounters is the number of counters (8 bytes each) from which a run
// returns its garbage to the OS between its phases: the copies of the
// counts that merging, reporting and saving make (and the workers'
// buffers, a state loaded beside counts) would otherwise stay resident
// beside the next ones, doubling the peak memory of a state of millions
// of features.
const bigCounters = 1 << 21

// release collects the garbage and returns it to the OS if tallies of the
// config are big. The run calls it between its phases, and nothing else
// does.
func release(c tally.Config) {
	if c.Counters() >= bigCounters {
		debug.FreeOSMemory()
	}
}

// join writes a flag and its value, if it has one (a path, as messages
// show names).
func join(flag, value string) string {
	if value == "" {
		return flag
	}
	return flag + " " + input.DisplayName(value)
}
