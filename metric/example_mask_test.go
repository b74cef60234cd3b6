package metric_test

import (
	"fmt"

	"github.com/sparsekit/l0/metric"
)

// A token mask leaves the vectors of special tokens out of every
// statistic: here the BOS token (id 50256) of each of two sequences of
// three positions, wherever it stands.
func ExampleFeatureActivity_UpdateMasked() {
	a, _ := metric.NewFeatureActivity[float32](0, 2)
	tokens := []int64{50256, 11, 12, 13, 50256, 14}
	x := []float32{
		9, 9, // BOS: left out
		1, 0,
		1, 0,
		0, 0,
		9, 9, // BOS, mid-sequence: left out
		1, 0,
	}
	keep := metric.TokenMask(nil, tokens, []int64{50256})
	if err := a.UpdateMasked(x, keep, 6, 2); err != nil {
		panic(err)
	}
	density, _ := a.Density()
	fmt.Println(a.Vectors(), "vectors kept, density", density, "dead", a.Dead())
	// Output: 4 vectors kept, density [0.75 0] dead [1]
}

// The per-sequence statistics of SAEBench's core evaluation: per feature,
// the sequences in which it fired at least once, and the
// consistent_activation_heuristic (firings / sequences fired; NaN where
// it never fired).
func ExampleSequenceActivity() {
	s, _ := metric.NewSequenceActivity[float32](3, 0, 3) // 3 positions, 3 features
	x := []float32{
		// sequence 0
		1, 0, 0,
		1, 0, 0,
		1, 2, 0,
		// sequence 1
		0, 0, 0,
		0, 5, 0,
		0, 5, 0,
	}
	if err := s.Update(x, 2, 3, 3); err != nil { // shape [sequence, position, feature]
		panic(err)
	}
	fmt.Println("sequences:", s.Sequences())
	fmt.Println("firings:", s.Activity().Counts())
	fmt.Println("sequences fired:", s.SequencesFired())
	fmt.Println("consistent activation:", s.ConsistentActivation())
	l0, _ := s.L0ByPosition()
	fmt.Println("L0 by position:", l0)
	// Output:
	// sequences: 2
	// firings: [3 3 0]
	// sequences fired: [1 2 0]
	// consistent activation: [3 1.5 NaN]
	// L0 by position: [0.5 1 1.5]
}

// A top-k batch of sequences, with the first position of each left out.
func ExampleUpdateSequencesTopK() {
	s, _ := metric.NewSequenceActivity[float32](0, 0, 4)
	index := []int32{
		3, 1, // sequence 0, position 0: left out
		0, 1,
		2, 1, // sequence 1, position 0: left out
		0, 3,
	}
	keep := []bool{false, true, false, true}
	if err := metric.UpdateSequencesTopK(s, index, nil, keep, 2, 2, 2); err != nil { // [sequence, position, k]
		panic(err)
	}
	fmt.Println(s.SequencesFired(), s.Vectors())
	// Output: [2 1 0 1] 2
}
