package metric

import (
	"encoding/binary"
	"fmt"
)

// activityVersion is the version of the binary state of a FeatureActivity
// with SinceFired, which carries, after the counts, each counter's
// vectors since it last fired (8 bytes each, ≤ the vector count). A
// FeatureActivity without SinceFired writes version 1, the counts alone,
// and reads both (a version 2 state's since-fired counts checked and
// dropped). Version 1 states load into a metric with SinceFired too:
// their since-fired counts are known only where a feature never fired
// (every vector); one that fired reads as fired in the state's last
// vector (lastFromCountsLocked), the least its true count can be.
const activityVersion = 2

// appendSince appends, per counter, the vectors since it fired: vectors
// minus its position.
func appendSince(b []byte, vectors int64, last []int64) []byte {
	for _, l := range last {
		b = binary.LittleEndian.AppendUint64(b, uint64(vectors-l))
	}
	return b
}

// checkSinceState checks serialized since-fired counts (nil: none) against
// their state's counts and vector count: none is above the vectors, and a
// counter has seen every vector since it fired exactly when it never
// fired (its count is 0). first is the index of the first counter, for
// the error.
func checkSinceState(counts, since []byte, vectors int64, first int) error {
	for i := 0; i+8 <= len(since); i += 8 {
		s, n := binary.LittleEndian.Uint64(since[i:]), binary.LittleEndian.Uint64(counts[i:])
		switch {
		case s > uint64(vectors):
			return fmt.Errorf("%w: counter %d: %d vectors since it fired, of %d", ErrFormat, first+i/8, s, vectors)
		case (n == 0) != (s == uint64(vectors)):
			return fmt.Errorf("%w: counter %d: count %d, and %d of %d vectors since it fired", ErrFormat, first+i/8, n, s, vectors)
		}
	}
	return nil
}

// decodeSince decodes serialized since-fired counts into positions, checked
// (checkSinceState).
func decodeSince(last []int64, since []byte, vectors int64) {
	for i := range last[:len(since)/8] {
		last[i] = vectors - int64(binary.LittleEndian.Uint64(since[8*i:]))
	}
}

// since reads the n since-fired counts that follow the counts, checking
// them against the counts decoded into counts and decoding them into last
// (nil: a metric without SinceFired, which checks them and keeps none),
// unless counts is nil (a state of another configuration, read to its
// checksum).
func (sr *stateReader) since(last []int64, counts []uint64, n int, vectors int64) error {
	for done := 0; done < n; {
		piece := sr.buf[:8*min(len(sr.buf)/8, n-done)]
		if err := sr.full(piece, "its vectors since fired"); err != nil {
			return err
		}
		if counts != nil {
			for i := range len(piece) / 8 {
				s := binary.LittleEndian.Uint64(piece[8*i:])
				c := done + i
				switch {
				case s > uint64(vectors):
					return fmt.Errorf("%w: counter %d: %d vectors since it fired, of %d", ErrFormat, c, s, vectors)
				case (counts[c] == 0) != (s == uint64(vectors)):
					return fmt.Errorf("%w: counter %d: count %d, and %d of %d vectors since it fired", ErrFormat, c, counts[c], s, vectors)
				}
				if last != nil {
					last[c] = vectors - int64(s)
				}
			}
		}
		done += len(piece) / 8
	}
	return nil
}
