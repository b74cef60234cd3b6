package tally

import "runtime/debug"

// bigCounters is the number of counters (8 bytes each) from which a run
// returns its garbage to the OS between its phases: the copies of the
// counts that merging, reporting and saving make (and the workers'
// buffers) would otherwise stay resident beside the next ones, doubling
// the peak memory of a state of millions of features.
const bigCounters = 1 << 21

// Release collects the garbage and returns it to the OS if tallies of the
// config are big; a run calls it between its phases.
func Release(c Config) {
	if c.Counters() >= bigCounters {
		debug.FreeOSMemory()
	}
}
