package metric

import (
	"fmt"
	"math"
	"math/bits"
	"sync"

	"github.com/sparsekit/l0/kernel"
)

// SequenceActivity counts, for each feature (of each component), in how
// many vectors it fired and in how many sequences it fired at least once:
// the per-sequence statistics of SAEBench's core evaluation. Its batches
// are sequences of positions, [sequence, position, feature] (or [sequence,
// position, component, feature]), each position an activation vector, and
// a keep mask may leave vectors out (UpdateMasked): a feature's sequences
// are those in which it fired at a kept position.
//
// From the counts come feature_density (firings / kept vectors, as
// FeatureActivity's Density) and the consistent_activation_heuristic
// (firings / sequences fired; NaN where the feature fired in none). A
// SequenceActivity made with a number of positions also counts the L0 of
// each position over its kept vectors.
//
// The firings are a FeatureActivity's (Activity), counted in the same
// pass over the batch: the column kernel adds each sequence's kept runs of
// positions to the batch's firings (a scratch of the features' size), and
// a branch-free fold adds 1 to the sequences of each feature whose firings
// the sequence moved (an OR over the positions, then one count per
// sequence). Sparse batches (UpdateSequencesTopK) mark each
// feature with the last sequence it fired in instead, in Go.
//
// It is safe for concurrent use and must not be copied after first use.
// Its state has no binary format of its own (the firings' is
// FeatureActivity's); Merge adds another's, and AddCounts counts made
// outside it (of a sparse form the package has no update of, such as a
// latent cache's entries found by sequence).
type SequenceActivity[T kernel.Element] struct {
	positions  int // fixed positions, for the L0 per position; 0: any, none counted
	components int
	features   int
	counter    counter[T]
	act        *FeatureActivity[T]

	mu        sync.Mutex
	sequences int64
	fired     []uint64 // per (component, feature): the sequences it fired in
	// stamp, per (component, feature), is the id of the last sequence a
	// sparse batch saw it fire in; epoch the last id given. Ids are never
	// reused, even across Reset, so no stamp is ever stale. nil until the
	// first sparse batch.
	stamp []uint64
	epoch uint64
	// With positions: per (position, component), the elements counted, and
	// per position the vectors kept.
	posCounts  []uint64
	posVectors []int64
}

// NewSequenceActivity returns a SequenceActivity over sequences of the
// given number of positions (0: any number, and no L0 per position), of
// components (0: none) and features, counting by the options' Rule as
// NewFeatureActivity does. Negative sizes and sizes past the limits are an
// ErrConfig error.
func NewSequenceActivity[T kernel.Element](positions, components, features int, options ...Option) (*SequenceActivity[T], error) {
	if positions < 0 || positions > MaxComponents {
		return nil, fmt.Errorf("%w: %d positions; want 0 (any) to %d", ErrConfig, positions, MaxComponents)
	}
	act, err := NewFeatureActivity[T](components, features, options...)
	if err != nil {
		return nil, err
	}
	if positions > 0 && max(components, 1) > MaxCounters/positions {
		return nil, fmt.Errorf("%w: %d positions × %d components: more than %d counters", ErrConfig, positions, components, int64(MaxCounters))
	}
	s := &SequenceActivity[T]{
		positions: positions, components: components, features: features,
		counter: act.core().counter, act: act,
		fired: make([]uint64, max(components, 1)*features),
	}
	if positions > 0 {
		s.posCounts = make([]uint64, positions*max(components, 1))
		s.posVectors = make([]int64, positions)
	}
	return s, nil
}

// Activity returns the FeatureActivity that holds the firings of s's kept
// vectors: its Counts, Density, Dead, Histogram, L0 and binary state are
// s's. Updates and Merges of it directly add vectors that are in no
// sequence of s.
func (s *SequenceActivity[T]) Activity() *FeatureActivity[T] { return s.act }

// Positions returns the positions of s's sequences, 0 for any.
func (s *SequenceActivity[T]) Positions() int { return s.positions }

// Sequences returns the number of sequences added, those with no kept
// position too.
func (s *SequenceActivity[T]) Sequences() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sequences
}

// Vectors returns the number of kept vectors added.
func (s *SequenceActivity[T]) Vectors() int64 { return s.act.Vectors() }

// SequencesFired returns, per (component, feature) as Counts orders them,
// the number of sequences in which the feature fired at a kept position.
func (s *SequenceActivity[T]) SequencesFired() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.fired...)
}

// ConsistentActivation returns SAEBench's consistent_activation_heuristic
// per (component, feature): the vectors it fired in divided by the
// sequences it fired in, NaN where it fired in none.
func (s *SequenceActivity[T]) ConsistentActivation() []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	firings := s.act.Counts()
	out := make([]float64, len(s.fired))
	for i, n := range s.fired {
		out[i] = float64(firings[i]) / float64(n) // 0/0 is NaN
		if n == 0 {
			out[i] = math.NaN()
		}
	}
	return out
}

// L0ByPosition returns, per position (per position and component, row
// major, with components), the mean number of features counted over the
// vectors kept at that position: NaN at a position no vector was kept at.
// A SequenceActivity of any positions (made with 0) has none: ErrConfig.
func (s *SequenceActivity[T]) L0ByPosition() ([]float64, error) {
	if s.positions == 0 {
		return nil, fmt.Errorf("%w: L0ByPosition of a SequenceActivity of any positions (made with 0)", ErrConfig)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	slots := max(s.components, 1)
	out := make([]float64, len(s.posCounts))
	for i, n := range s.posCounts {
		out[i] = float64(n) / float64(s.posVectors[i/slots])
	}
	return out, nil
}

// PositionVectors returns, per position, the vectors kept there (nil for
// a SequenceActivity of any positions).
func (s *SequenceActivity[T]) PositionVectors() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.posVectors == nil {
		return nil
	}
	return append([]int64(nil), s.posVectors...)
}

// Reset returns s to its state before the first Update.
func (s *SequenceActivity[T]) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.act.Reset()
	s.sequences = 0
	clear(s.fired)
	clear(s.posCounts)
	clear(s.posVectors)
}

// seqLayout is a validated batch of sequences.
type seqLayout struct {
	sequences, positions, slots, width int // width: the elements (entries) of a position
}

// parseSequences checks a shape [sequence, position, (component,) last]
// against s, and n elements; features is the last size's required value
// (-1: any, a top-k batch's k).
func (s *SequenceActivity[T]) parseSequences(shape []int, n, features int) (seqLayout, error) {
	rank := 3
	want := "[sequence, position, feature]"
	if s.components > 0 {
		rank, want = 4, "[sequence, position, component, feature]"
	}
	if len(shape) != rank {
		return seqLayout{}, fmt.Errorf("%w: shape %s has rank %d, want %s", ErrShape, shapeString(shape), len(shape), want)
	}
	// Fold sequences and positions into one batch dimension to check the
	// sizes and the product as every update does.
	if shape[0] < 0 || shape[1] < 0 {
		return seqLayout{}, fmt.Errorf("%w: shape %s has a negative size", ErrShape, shapeString(shape))
	}
	hi, vectors := bits.Mul64(uint64(shape[0]), uint64(shape[1]))
	if hi != 0 || vectors > math.MaxInt {
		return seqLayout{}, fmt.Errorf("%w: shape %s has more elements than an int can count", ErrShape, shapeString(shape))
	}
	flat := make([]int, 0, 3)
	flat = append(flat, int(vectors))
	flat = append(flat, shape[2:]...)
	l, err := parseShape(flat, n, s.components, features)
	if err != nil {
		return seqLayout{}, fmt.Errorf("%w (of the sequences %s)", err, shapeString(shape))
	}
	if s.positions > 0 && shape[1] != s.positions {
		return seqLayout{}, fmt.Errorf("%w: shape %s has %d positions, the metric %d", ErrShape, shapeString(shape), shape[1], s.positions)
	}
	return seqLayout{sequences: shape[0], positions: shape[1], slots: l.slots, width: l.slots * l.features}, nil
}

// Update adds a batch of sequences, x of shape [sequence, position,
// feature] (or [sequence, position, component, feature]), every vector
// kept.
func (s *SequenceActivity[T]) Update(x []T, shape ...int) error {
	return s.UpdateMasked(x, nil, shape...)
}

// UpdateMasked adds a batch of sequences, leaving out of every statistic
// the vectors whose keep entry is false: keep has one entry per (sequence,
// position), row-major, or is nil to keep every vector. A sequence with no
// kept position counts as a sequence, in which no feature fired. A shape of
// another rank, components, features or positions than s's, or a keep mask
// of another length, is an ErrShape error; a rejected call changes
// nothing.
func (s *SequenceActivity[T]) UpdateMasked(x []T, keep []bool, shape ...int) error {
	l, err := s.parseSequences(shape, len(x), s.features)
	if err != nil {
		return err
	}
	kept, err := checkKeep(keep, l.sequences*l.positions)
	if err != nil || l.sequences == 0 {
		return err
	}
	if l.width == 0 {
		return s.addNoFirings(l, kept, keep)
	}
	// firings are the batch's counts so far, the column kernel adding each
	// sequence's runs to them; last are the firings at the end of the
	// sequence before, so that a feature fired in a sequence where its
	// count moved.
	counters := len(s.fired)
	firings := activityScratch.get(counters)
	defer activityScratch.put(firings)
	last := activityScratch.get(counters)
	defer activityScratch.put(last)
	fired := activityScratch.get(counters)
	defer activityScratch.put(fired)
	var pos *[]uint64
	if s.positions > 0 {
		pos = slotScratch.get(len(s.posCounts))
		defer slotScratch.put(pos)
	}
	for q := range l.sequences {
		first := q * l.positions
		var seqKeep []bool
		if keep != nil {
			seqKeep = keep[first : first+l.positions]
		}
		fires := false
		err := keptRuns(seqKeep, l.positions, func(from, to int) error {
			fires = true
			run := x[(first+from)*l.width : (first+to)*l.width]
			if err := s.counter.addAllColumns(*firings, run); err != nil {
				return err
			}
			if pos != nil {
				return s.counter.countAllRows((*pos)[from*l.slots:to*l.slots], run, l.width/l.slots)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if fires {
			foldSequence(*fired, *firings, *last)
		}
	}
	if pos == nil {
		return s.commit(int64(l.sequences), kept, *firings, *fired, nil, nil, nil, x, keep)
	}
	return s.commit(int64(l.sequences), kept, *firings, *fired, *pos, keep, &l, x, keep)
}

// addNoFirings adds a batch of vectors of no elements (no features, or
// k = 0): nothing fires, and the work is the mask's, or the positions',
// never the sequences' a shape claims.
func (s *SequenceActivity[T]) addNoFirings(l seqLayout, kept int, keep []bool) error {
	zeros := activityScratch.get(len(s.fired))
	defer activityScratch.put(zeros)
	if s.positions == 0 {
		return s.commit(int64(l.sequences), kept, *zeros, *zeros, nil, nil, nil, nil, nil)
	}
	return s.commit(int64(l.sequences), kept, *zeros, *zeros, nil, keep, &l, nil, nil)
}

// foldSequence adds 1 to fired where a sequence moved the firings since
// last, and sets last to them, without a branch: for a difference d, (d |
// -d) >> 63 is 1 if d != 0, else 0.
func foldSequence(fired, firings, last []uint64) {
	fired = fired[:len(firings)]
	last = last[:len(firings)]
	for i, c := range firings {
		d := c - last[i]
		fired[i] += (d | -d) >> 63
		last[i] = c
	}
}

// commit adds a batch counted outside the lock: sequences, kept vectors
// and their firings (at most kept each), the sequences fired (at most
// sequences each) and with positions (l not nil) the position counts and
// the vectors keep keeps at each position. It checks every sum before it
// changes anything.
//
// x and xKeep are the batch and its mask, whose kept vectors' features set
// their positions (since.go); x nil: a batch in which nothing fired.
func (s *SequenceActivity[T]) commit(sequences int64, kept int, firings, fired, pos []uint64, keep []bool, l *seqLayout, x []T, xKeep []bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sequences > math.MaxInt64-s.sequences {
		return errVectorsOverflow(s.sequences, sequences)
	}
	for i, n := range pos {
		if _, carry := bits.Add64(s.posCounts[i], n, 0); carry != 0 {
			return fmt.Errorf("%w: position counter %d: %d + %d passes 2^64", ErrOverflow, i, s.posCounts[i], n)
		}
	}
	if kept > 0 {
		if err := addCountedKept(s.act.core(), kept, firings, x, xKeep); err != nil {
			return err
		}
	}
	s.sequences += sequences
	for i, n := range fired {
		s.fired[i] += n
	}
	for i, n := range pos {
		s.posCounts[i] += n
	}
	if l != nil {
		s.addPositionVectorsLocked(keep, *l)
	}
	return nil
}

// addPositionVectorsLocked adds the vectors keep keeps (every one, nil) at
// each position of a batch of sequences.
func (s *SequenceActivity[T]) addPositionVectorsLocked(keep []bool, l seqLayout) {
	if keep == nil {
		for p := range s.posVectors {
			s.posVectors[p] += int64(l.sequences)
		}
		return
	}
	for q := range l.sequences {
		for p, k := range keep[q*l.positions : (q+1)*l.positions] {
			if k {
				s.posVectors[p]++
			}
		}
	}
}

// Merge adds other's state to s's. other must have s's positions,
// components, features and rule (ErrMismatch) and must not be nil
// (ErrConfig); a rejected Merge changes nothing.
func (s *SequenceActivity[T]) Merge(other *SequenceActivity[T]) error {
	if other == nil {
		return fmt.Errorf("%w: Merge with a nil *SequenceActivity", ErrConfig)
	}
	if other.positions != s.positions {
		return fmt.Errorf("%w: a SequenceActivity of %d positions does not merge with one of %d", ErrMismatch, other.positions, s.positions)
	}
	if err := checkConfig(other.act.core().config(), s.act.core().config()); err != nil {
		return err
	}
	lockBoth(&s.mu, &other.mu)
	defer unlockBoth(&s.mu, &other.mu)
	if other.sequences > math.MaxInt64-s.sequences {
		return errVectorsOverflow(s.sequences, other.sequences)
	}
	for i, n := range other.posCounts {
		if _, carry := bits.Add64(s.posCounts[i], n, 0); carry != 0 {
			return fmt.Errorf("%w: position counter %d: %d + %d passes 2^64", ErrOverflow, i, s.posCounts[i], n)
		}
	}
	if err := s.act.Merge(other.act); err != nil {
		return err
	}
	double := s == other
	sequences := other.sequences
	s.sequences += sequences
	for i := range s.fired {
		if double {
			s.fired[i] *= 2
			continue
		}
		s.fired[i] += other.fired[i]
	}
	for i := range s.posCounts {
		if double {
			s.posCounts[i] *= 2
			continue
		}
		s.posCounts[i] += other.posCounts[i]
	}
	for i := range s.posVectors {
		if double {
			s.posVectors[i] *= 2
			continue
		}
		s.posVectors[i] += other.posVectors[i]
	}
	return nil
}

// UpdateSequencesTopK adds a batch of sequences of top-k outputs to s:
// index and values of shape [sequence, position, k] (or [sequence,
// position, component, k]), values nil when every entry counts, keep one
// entry per (sequence, position) or nil, as UpdateMasked takes them. It
// leaves s as UpdateMasked of the dense batch would. Every index is
// checked against [0, features) first (ErrShape wrapping kernel.ErrIndex);
// a rejected batch changes nothing. The batch is added under s's lock,
// straight into the counts, a feature marked with the last sequence it
// fired in: the work is the entries', never the features'.
func UpdateSequencesTopK[T kernel.Element, I kernel.Index](s *SequenceActivity[T], index []I, values []T, keep []bool, shape ...int) error {
	if s == nil {
		return fmt.Errorf("%w: a sparse update of a nil *SequenceActivity", ErrConfig)
	}
	l, err := s.parseSequences(shape, len(index), -1)
	if err != nil {
		return err
	}
	if values != nil && len(values) != len(index) {
		return fmt.Errorf("%w: %d values for %d entries", ErrShape, len(values), len(index))
	}
	kept, err := checkKeep(keep, l.sequences*l.positions)
	if err != nil {
		return err
	}
	if err := kernel.CheckIndex(index, s.features); err != nil {
		return indexError(err)
	}
	if l.sequences == 0 {
		return nil
	}
	if l.width == 0 {
		return s.addNoFirings(l, kept, keep)
	}
	// counts[i] is 1 where entry i counts by the rule (the row kernel over
	// rows of one element), in a scratch of the batch's entries.
	var counts []uint64
	if values != nil {
		b := activityScratch.get(len(values))
		defer activityScratch.put(b)
		counts = *b
		if len(values) > 0 {
			if err := s.counter.countAllRows(counts, values, 1); err != nil {
				return err
			}
		}
	}
	k := l.width / l.slots
	s.mu.Lock()
	defer s.mu.Unlock()
	if int64(l.sequences) > math.MaxInt64-s.sequences {
		return errVectorsOverflow(s.sequences, int64(l.sequences))
	}
	if s.stamp == nil {
		s.stamp = make([]uint64, len(s.fired))
	}
	// The position counts first, from the rule's counts alone, so that an
	// overflow is found before anything changes.
	var pos []uint64
	if s.positions > 0 {
		b := slotScratch.get(len(s.posCounts))
		defer slotScratch.put(b)
		pos = *b
		for v := range l.sequences * l.positions {
			if keep != nil && !keep[v] {
				continue
			}
			for slot := range l.slots {
				n := uint64(k)
				if counts != nil {
					n = 0
					for _, c := range counts[v*l.width+slot*k : v*l.width+(slot+1)*k] {
						n += c
					}
				}
				pos[v%l.positions*l.slots+slot] += n
			}
		}
		for i, n := range pos {
			if _, carry := bits.Add64(s.posCounts[i], n, 0); carry != 0 {
				return fmt.Errorf("%w: position counter %d: %d + %d passes 2^64", ErrOverflow, i, s.posCounts[i], n)
			}
		}
	}
	c := s.act.core()
	c.mu.Lock()
	defer c.mu.Unlock()
	vectors, most := int64(kept), uint64(kept)*uint64(l.width)
	firstVector := c.vectors
	into, scratch, err := c.beginInPlaceLocked(vectors, most)
	if err != nil {
		return err
	}
	fired := s.fired
	if scratch != nil {
		// The rare addition whose sums must be checked at its end: the
		// sequences fired go to a scratch too, added only if it succeeds.
		b := activityScratch.get(len(s.fired))
		defer activityScratch.put(b)
		fired = *b
	}
	for q := range l.sequences {
		s.epoch++
		id := s.epoch
		for p := range l.positions {
			v := q*l.positions + p
			if keep != nil && !keep[v] {
				continue
			}
			for slot := range l.slots {
				row := v*l.width + slot*k
				base := slot * s.features
				for j, f := range index[row : row+k] {
					if counts != nil && counts[row+j] == 0 {
						continue
					}
					i := base + int(f)
					into[i]++
					hit := s.stamp[i] ^ id // 0 where already marked in this sequence
					fired[i] += (hit | -hit) >> 63
					s.stamp[i] = id
				}
			}
		}
	}
	if err := c.endInPlaceLocked(vectors, most, scratch, nil); err != nil {
		return err
	}
	// The positions of the features fired (since.go), the kept vectors in
	// order.
	last, at := c.last, firstVector
	for v := range l.sequences * l.positions {
		if last == nil {
			break // a metric without SinceFired
		}
		if keep != nil && !keep[v] {
			continue
		}
		at++
		for slot := range l.slots {
			row := v*l.width + slot*k
			for j, f := range index[row : row+k] {
				if counts == nil || counts[row+j] != 0 {
					last[slot*s.features+int(f)] = at
				}
			}
		}
	}
	if scratch != nil {
		for i, n := range fired {
			s.fired[i] += n
		}
	}
	s.sequences += int64(l.sequences)
	for i, n := range pos {
		s.posCounts[i] += n
	}
	if s.positions > 0 {
		s.addPositionVectorsLocked(keep, l)
	}
	return nil
}

// SequenceCounts are the counts of a batch of sequences made outside a
// SequenceActivity, from a sparse form the package has no update of (a
// latent cache's entries, found by sequence), for AddCounts: what
// UpdateMasked of the dense batch would have counted.
type SequenceCounts struct {
	// Sequences is the batch's sequences, those with no kept vector too.
	Sequences int64
	// Firings, per (component, feature) as Counts orders them: the kept
	// vectors in which it fired; Fired the sequences in which it fired at
	// a kept position.
	Firings, Fired []uint64
	// Vectors is the kept vectors. With positions (a SequenceActivity made
	// with a number of them), PositionVectors holds the vectors kept at
	// each position (they sum to Vectors) and PositionCounts, per
	// (position, component), the elements counted in them; both nil
	// otherwise.
	Vectors         int64
	PositionVectors []int64
	PositionCounts  []uint64
	// SinceFired, per counter, the kept vectors after the last one in
	// which it fired (Vectors where it never fired), for a SequenceActivity
	// made with SinceFired; nil when not known (a counter that fired then
	// counts as fired in the last kept vector, 0 since, the least its
	// true count can be), and ignored by one made without it.
	SinceFired []int64
}

// AddCounts adds a batch counted outside s. Counts no dense batch could
// give are an ErrShape error: slices of other lengths than s's, a firing
// count above the kept vectors, sequences fired above the sequences or the
// firings (or none where it fired), kept vectors above the sequences'
// positions, position vectors that do not sum to the kept vectors or pass
// the sequences, a position count above its vectors' elements. A sum past
// the counters' range is ErrOverflow. A rejected batch changes nothing.
func (s *SequenceActivity[T]) AddCounts(c SequenceCounts) error {
	if s == nil {
		return fmt.Errorf("%w: AddCounts of a nil *SequenceActivity", ErrConfig)
	}
	if err := s.checkCounts(c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Sequences > math.MaxInt64-s.sequences {
		return errVectorsOverflow(s.sequences, c.Sequences)
	}
	for i, n := range c.PositionCounts {
		if _, carry := bits.Add64(s.posCounts[i], n, 0); carry != 0 {
			return fmt.Errorf("%w: position counter %d: %d + %d passes 2^64", ErrOverflow, i, s.posCounts[i], n)
		}
	}
	if c.Vectors > 0 {
		if err := addCountedAtEnd(s.act.core(), c.Vectors, c.Firings, c.SinceFired); err != nil {
			return err
		}
	}
	s.sequences += c.Sequences
	for i, n := range c.Fired {
		s.fired[i] += n
	}
	for i, n := range c.PositionCounts {
		s.posCounts[i] += n
	}
	for p, n := range c.PositionVectors {
		s.posVectors[p] += n // at most the sequences, which fit
	}
	return nil
}

// checkCounts checks that c could be the counts of a batch of sequences of
// s.
func (s *SequenceActivity[T]) checkCounts(c SequenceCounts) error {
	counters, slots := len(s.fired), max(s.components, 1)
	switch {
	case len(c.Firings) != counters || len(c.Fired) != counters:
		return fmt.Errorf("%w: %d firings and %d sequences fired for %d counters", ErrShape, len(c.Firings), len(c.Fired), counters)
	case c.Sequences < 0 || c.Vectors < 0:
		return fmt.Errorf("%w: %d sequences, %d vectors", ErrShape, c.Sequences, c.Vectors)
	case len(c.PositionVectors) != len(s.posVectors) || len(c.PositionCounts) != len(s.posCounts):
		return fmt.Errorf("%w: %d position vectors and %d position counts for %d positions of %d components", ErrShape, len(c.PositionVectors), len(c.PositionCounts), s.positions, s.components)
	}
	if s.positions > 0 {
		if hi, most := bits.Mul64(uint64(c.Sequences), uint64(s.positions)); hi == 0 && uint64(c.Vectors) > most {
			return fmt.Errorf("%w: %d vectors kept of %d sequences of %d positions", ErrShape, c.Vectors, c.Sequences, s.positions)
		}
		var sum uint64
		for p, n := range c.PositionVectors {
			if n < 0 || n > c.Sequences {
				return fmt.Errorf("%w: %d vectors kept at position %d of %d sequences", ErrShape, n, p, c.Sequences)
			}
			// Each at most 2^63 - 1, and the sum stops past the vectors
			// (below 2^63): it cannot wrap.
			sum += uint64(n)
			if sum > uint64(c.Vectors) {
				break
			}
		}
		if sum != uint64(c.Vectors) {
			return fmt.Errorf("%w: the vectors kept at each position do not sum to the %d kept", ErrShape, c.Vectors)
		}
		for i, n := range c.PositionCounts {
			if hi, most := bits.Mul64(uint64(c.PositionVectors[i/slots]), uint64(s.features)); hi == 0 && n > most {
				return fmt.Errorf("%w: position %d counted %d elements in %d vectors of %d features", ErrShape, i/slots, n, c.PositionVectors[i/slots], s.features)
			}
		}
	}
	for i, n := range c.Firings {
		switch f := c.Fired[i]; {
		case n > uint64(c.Vectors):
			return fmt.Errorf("%w: counter %d fired in %d of %d kept vectors", ErrShape, i, n, c.Vectors)
		case f > uint64(c.Sequences) || f > n || f == 0 && n > 0:
			return fmt.Errorf("%w: counter %d fired in %d vectors and %d sequences of %d", ErrShape, i, n, f, c.Sequences)
		}
	}
	if c.SinceFired == nil {
		return nil
	}
	if len(c.SinceFired) != counters {
		return fmt.Errorf("%w: %d since-fired counts for %d counters", ErrShape, len(c.SinceFired), counters)
	}
	for i, s := range c.SinceFired {
		if s < 0 || s > c.Vectors || (c.Firings[i] == 0) != (s == c.Vectors) {
			return fmt.Errorf("%w: counter %d fired in %d of %d kept vectors, %d vectors since it fired", ErrShape, i, c.Firings[i], c.Vectors, s)
		}
	}
	return nil
}
