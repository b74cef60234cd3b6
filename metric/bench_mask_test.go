package metric

import (
	"fmt"
	"testing"
)

// maskBenchShapes are [sequence, position, feature] batches of 16 MiB of
// float32: long sequences of wide SAEs, short ones, and narrow features.
var maskBenchShapes = [][3]int{
	{8, 1024, 512},
	{64, 128, 512},
	{256, 16, 1024},
	{16, 128, 2048},
	{4, 128, 8192},
}

// benchKeep returns a keep mask of sequences × positions vectors that
// leaves out position 0 of every sequence (a BOS) and one vector in 64
// more (a BOS mid-sequence, padding): what -exclude-tokens leaves out.
func benchKeep(sequences, positions int) []bool {
	keep := make([]bool, sequences*positions)
	for i := range keep {
		keep[i] = i%positions != 0 && i%64 != 37
	}
	return keep
}

// BenchmarkMasked measures a dense batch [sequence, position, feature]
// counted with a token mask against the same batch without one, in GB/s
// of the whole batch (the excluded rows' bytes too), in one run: op=plain
// is Update, op=masked UpdateMasked. benchstat -col /op.
func BenchmarkMasked(b *testing.B) {
	for _, s := range maskBenchShapes {
		vectors, features := s[0]*s[1], s[2]
		x := benchData(vectors * features)
		keep := benchKeep(s[0], s[1])
		name := fmt.Sprintf("shape=%dx%dx%d", s[0], s[1], s[2])
		a, _ := NewFeatureActivity[float32](0, features)
		m, _ := NewL0Norm[float32](0)
		for _, c := range []struct {
			op string
			f  func() error
		}{
			{"activity/op=plain", func() error { return a.Update(x, vectors, features) }},
			{"activity/op=masked", func() error { return a.UpdateMasked(x, keep, vectors, features) }},
			{"l0norm/op=plain", func() error { return m.Update(x, vectors, features) }},
			{"l0norm/op=masked", func() error { return m.UpdateMasked(x, keep, vectors, features) }},
		} {
			b.Run(name+"/"+c.op, func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				b.ReportAllocs()
				loopCPU(b, c.f)
				a.Reset()
				m.Reset()
			})
		}
	}
}

// BenchmarkSequences measures the per-sequence statistics against the
// plain per-feature count of the same batch, in one run: op=plain is
// FeatureActivity.Update, op=sequences SequenceActivity.Update (the
// firings and the sequences fired, in one pass), op=sequences-masked
// with a token mask; op=positions counts the L0 per position too
// (SequenceActivity of fixed positions), against op=plain-positions, the
// FeatureActivity and L0Norm by position a run without masks counts.
// benchstat -col /op.
func BenchmarkSequences(b *testing.B) {
	for _, s := range maskBenchShapes {
		sequences, positions, features := s[0], s[1], s[2]
		vectors := sequences * positions
		x := benchData(vectors * features)
		keep := benchKeep(sequences, positions)
		name := fmt.Sprintf("shape=%dx%dx%d", sequences, positions, features)
		a, _ := NewFeatureActivity[float32](0, features)
		byPosition, _ := NewL0Norm[float32](positions)
		seq, _ := NewSequenceActivity[float32](0, 0, features)
		seqPos, _ := NewSequenceActivity[float32](positions, 0, features)
		for _, c := range []struct {
			op string
			f  func() error
		}{
			{"op=plain", func() error { return a.Update(x, vectors, features) }},
			{"op=sequences", func() error { return seq.Update(x, sequences, positions, features) }},
			{"op=sequences-masked", func() error { return seq.UpdateMasked(x, keep, sequences, positions, features) }},
			{"op=plain-positions", func() error {
				if err := a.Update(x, vectors, features); err != nil {
					return err
				}
				return byPosition.Update(x, sequences, positions, features)
			}},
			{"op=positions", func() error { return seqPos.Update(x, sequences, positions, features) }},
		} {
			b.Run(name+"/"+c.op, func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				b.ReportAllocs()
				loopCPU(b, c.f)
				a.Reset()
				byPosition.Reset()
				seq.Reset()
				seqPos.Reset()
			})
		}
	}
}
