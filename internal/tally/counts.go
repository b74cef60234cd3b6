package tally

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"sync"

	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// Entries of a latent cache.
//
// A delphi latent cache holds, per split of the latents, a list of
// (sequence, position, latent) entries and their float16 activations: the
// sparse form of a [sequence, position, feature] array. The input layer
// reads a range of sequences of every split, checks each entry, and counts
// the ones that count (by the rule, decided by Float16Counted's table) per
// feature and per position; AddCounts then adds those counts, as the dense
// batch of those sequences would add them, to the tally's metrics.

// A CountsAdder is a tally that takes counts made outside it: the tally of
// an input with positions (every Tally New returns is one).
type CountsAdder interface {
	// AddCounts adds a batch of rows × positions vectors counted outside
	// the tally, the counts of the dense batch they stand for: features
	// holds the counted entries of each feature (len Config().Counters()),
	// positions those of each position counted (len Config().Positions,
	// the rows being the L0 per position's vectors); since, per feature,
	// the vectors after the last one in which it fired (nil: not known, a
	// feature that fired counts as fired in the last vector; a tally
	// without since-fired counts ignores it). A count above the vectors it
	// could be found in, or a since-fired count the counts deny, is an
	// error, and adds nothing.
	AddCounts(rows int64, features, positions []uint64, since []int64) error
	// AddSequenceCounts adds a batch of rows (sequences) × positions
	// counted outside the tally into a tally of a config with Sequences:
	// features and positions as AddCounts takes them, over the kept
	// vectors; fired, per feature, the rows in which it fired at a kept
	// position; kept, per position counted, the vectors a token mask kept
	// there (nil: no mask, every one); since as AddCounts takes it, over
	// the kept vectors. Counts no dense batch could give are an error, and
	// add nothing.
	AddSequenceCounts(rows int64, features, fired, positions []uint64, kept, since []int64) error
}

// Float16Counted returns the rule's decision for every float16 bit
// pattern: whether a float16 element of those bits counts. It is decided
// by the metric itself, one Update of all 65,536 patterns, so that an
// entry counted by its table counts exactly as the dense array's element
// would.
func Float16Counted(rule metric.Rule) (*[1 << 16]bool, error) {
	countedMu.Lock()
	defer countedMu.Unlock()
	if table, ok := countedTables[rule]; ok {
		return table, nil
	}
	table, err := float16Counted(rule)
	if err == nil {
		if len(countedTables) == maxCountedTables {
			clear(countedTables)
		}
		countedTables[rule] = table
	}
	return table, err
}

// The tables Float16Counted made, by rule: a run has one rule, and each
// of its caches would otherwise make the same table again (an Update of
// 65,536 elements, and 1 MiB of counters). A few rules are kept, of
// whatever process (a test's) calls with many.
var (
	countedMu     sync.Mutex
	countedTables = map[metric.Rule]*[1 << 16]bool{}
)

const maxCountedTables = 8

func float16Counted(rule metric.Rule) (*[1 << 16]bool, error) {
	m, err := metric.NewFeatureActivity[kernel.Float16](0, 1<<16, rule)
	if err != nil {
		return nil, err
	}
	all := make([]kernel.Float16, 1<<16)
	for i := range all {
		all[i] = kernel.Float16(i)
	}
	if err := m.Update(all, 1, len(all)); err != nil {
		return nil, err
	}
	table := new([1 << 16]bool)
	for i, c := range m.Counts() {
		table[i] = c != 0
	}
	return table, nil
}

// castagnoli is the checksum of metric's binary states.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AddCounts adds the counts to the metrics through their binary states,
// the one way metric takes counts made elsewhere: a state of the tally's
// configuration with these counts is decoded (metric checks it: no count
// without a vector) and merged, so that the counts are added exactly as
// Merge adds another tally's, overflow checks and all.
func (t *typed[T]) AddCounts(rows int64, features, positions []uint64, since []int64) error {
	c := t.c
	switch {
	case c.Positions == 0:
		return fmt.Errorf("AddCounts: a tally without positions (%s)", c.Describe())
	case len(features) != c.Counters() || len(positions) != c.Positions:
		return fmt.Errorf("AddCounts: %d feature and %d position counts for %s", len(features), len(positions), c.Describe())
	case rows <= 0 || rows > (1<<63-1)/int64(c.Positions):
		return fmt.Errorf("%w: %d rows of %d positions", ErrTooManyVectors, rows, c.Positions)
	}
	vectors := rows * int64(c.Positions)
	for _, n := range features {
		if n > uint64(vectors) {
			return fmt.Errorf("AddCounts: a feature counted %d times in %d vectors", n, vectors)
		}
	}
	for _, n := range positions {
		if hi, most := bits.Mul64(uint64(rows), uint64(c.Features)); hi == 0 && n > most {
			return fmt.Errorf("AddCounts: a position counted %d times in %d rows of %d features", n, rows, c.Features)
		}
	}
	rule := t.act.Rule()
	act, err := metric.NewFeatureActivity[T](c.Components, c.Features, activityOptions(rule, t.sinceFired)...)
	if err != nil {
		return err
	}
	if !t.sinceFired {
		since = nil
	}
	if err := act.UnmarshalBinary(withCounts(act.MarshalBinary, vectors, features, since)); err != nil {
		return err
	}
	pos, err := metric.NewL0Norm[T](c.Positions, rule)
	if err != nil {
		return err
	}
	if err := pos.UnmarshalBinary(withCounts(pos.MarshalBinary, rows, positions, nil)); err != nil {
		return err
	}
	// A merge that fails (a count past 2^64) leaves its metric as it was;
	// the input's error then fails the run, so the other need not be
	// undone.
	if err := t.act.Merge(act); err != nil {
		return err
	}
	if err := t.pos.Merge(pos); err != nil {
		return err
	}
	t.updates++
	return nil
}

func (t *typed[T]) AddSequenceCounts(rows int64, features, fired, positions []uint64, kept, since []int64) error {
	c := t.c
	switch {
	case t.seq == nil:
		return fmt.Errorf("AddSequenceCounts: a tally that counts no sequences (%s)", c.Describe())
	case kept != nil && len(kept) != c.Positions:
		return fmt.Errorf("AddSequenceCounts: %d positions kept for %s", len(kept), c.Describe())
	case rows <= 0 || rows > (1<<63-1)/int64(c.Positions):
		return fmt.Errorf("%w: %d rows of %d positions", ErrTooManyVectors, rows, c.Positions)
	}
	all := rows * int64(c.Positions)
	vectors, masked := all, kept != nil
	if masked {
		vectors = 0
		for _, n := range kept {
			if n < 0 || n > rows {
				return fmt.Errorf("AddSequenceCounts: %d vectors kept at a position of %d rows", n, rows)
			}
			vectors += n // at most rows × positions: no overflow
		}
	} else {
		kept = make([]int64, c.Positions)
		for p := range kept {
			kept[p] = rows
		}
	}
	if !t.sinceFired {
		since = nil
	}
	err := t.seq.AddCounts(metric.SequenceCounts{
		Sequences: rows, Firings: features, Fired: fired,
		Vectors: vectors, PositionVectors: kept, PositionCounts: positions,
		SinceFired: since,
	})
	if err != nil {
		return fmt.Errorf("AddSequenceCounts: %w", err)
	}
	t.excluded += all - vectors
	t.masked = t.masked || masked
	t.updates++
	return nil
}

// withCounts returns the binary state an empty metric marshals, with its
// vectors and counts set: the layout metric's package documentation gives
// (a 40-byte header whose vectors are at byte 32, the counts, a CRC-32C of
// everything before it).
//
// With since (a FeatureActivity with SinceFired, whose empty state is of
// version 2) each counter's vectors since it fired follow the counts;
// without, it writes version 1, the counts alone, whose since-fired counts
// are those its counts allow (a feature that fired in the batch fired in
// its last vector: sparsify's count of a batch).
func withCounts(marshal func() ([]byte, error), vectors int64, counts []uint64, since []int64) []byte {
	b, err := marshal()
	words := 1
	if since != nil {
		words = 2
	}
	if err != nil || len(b) < 40+8*words*len(counts)+4 || since != nil && (len(since) != len(counts) || b[4] != 2) {
		return nil // UnmarshalBinary says what is wrong
	}
	b = b[:40+8*words*len(counts)+4]
	b[4] = byte(words)
	binary.LittleEndian.PutUint64(b[32:], uint64(vectors))
	for i, n := range counts {
		binary.LittleEndian.PutUint64(b[40+8*i:], n)
	}
	for i, s := range since {
		binary.LittleEndian.PutUint64(b[40+8*(len(counts)+i):], uint64(s))
	}
	body := len(b) - 4
	binary.LittleEndian.PutUint32(b[body:], crc32.Checksum(b[:body], castagnoli))
	return b
}
