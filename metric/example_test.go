package metric_test

import (
	"fmt"

	"github.com/sparsekit/l0/metric"
)

// The sparse_autoencoder library's first doctest: no component dimension.
func ExampleL0Norm() {
	m, err := metric.NewL0Norm[float32](0)
	if err != nil {
		panic(err)
	}
	x := []float32{
		1, 0, 1,
		0, 1, 0,
	}
	if err := m.Update(x, 2, 3); err != nil { // shape [batch, feature]
		panic(err)
	}
	l0, err := m.Compute()
	if err != nil {
		panic(err)
	}
	fmt.Println(l0[0])
	// Output: 1.5
}

// The sparse_autoencoder library's second doctest: two components.
func ExampleL0Norm_components() {
	m, err := metric.NewL0Norm[float32](2)
	if err != nil {
		panic(err)
	}
	x := []float32{
		1, 0, 1, 1, 0, 1, // vector 0: component 0, then component 1
		0, 1, 0, 1, 0, 1, // vector 1
	}
	if err := m.Update(x, 2, 2, 3); err != nil { // shape [batch, component, feature]
		panic(err)
	}
	l0, err := m.Compute()
	if err != nil {
		panic(err)
	}
	fmt.Println(l0)
	// Output: [1.5 2]
}

// Forward returns the batch's own value, and accumulates it.
func ExampleL0Norm_Forward() {
	m, _ := metric.NewL0Norm[int8](0)
	batch, _ := m.Forward([]int8{1, 2, 3, 0}, 2, 2)
	fmt.Println("batch 1:", batch)
	batch, _ = m.Forward([]int8{0, 0}, 1, 2)
	fmt.Println("batch 2:", batch)
	total, _ := m.Compute()
	fmt.Println("total:", total, "over", m.Vectors(), "vectors")
	// Output:
	// batch 1: [1.5]
	// batch 2: [0]
	// total: [1] over 3 vectors
}

// Compute before any vector is an error, not 0/0.
func ExampleL0Norm_Compute() {
	m, _ := metric.NewL0Norm[float64](0)
	_, err := m.Compute()
	fmt.Println(err)
	// Output: metric: no activation vectors: Compute before any Update
}

// A thresholded L0 counts the features above a threshold: here, those that
// fired with more than 0.5. The rule is an Option of the constructor.
func ExampleAbove() {
	m, _ := metric.NewL0Norm[float32](0, metric.Above(0.5))
	_ = m.Update([]float32{0.9, 0.1, -2, 0.5, 0.7, 0.6}, 2, 3)
	l0, _ := m.Compute()
	fmt.Println(l0)
	// Output: [1.5]
}

// The metrics of two workers merge into the metric of all their vectors.
// A metric's rule is given once, at construction: here |x| > 1e-5, the
// rule of EleutherAI's delphi, for which -2 is as active as 2 and a value
// closer to zero than 1e-5 is not.
func ExampleAbsAbove() {
	a, _ := metric.NewFeatureActivity[float32](0, 3, metric.AbsAbove(1e-5))
	_ = a.Update([]float32{
		-2, 1e-6, 0,
		3, -1e-6, 0.5,
	}, 2, 3)
	fmt.Println(a.Rule(), a.Counts())
	l0, _ := a.L0()
	fmt.Println(l0)
	// Output:
	// |x| > 1e-05 [2 0 1]
	// [1.5]
}

func ExampleL0Norm_Merge() {
	a, _ := metric.NewL0Norm[float32](0)
	b, _ := metric.NewL0Norm[float32](0)
	_ = a.Update([]float32{1, 0, 1}, 1, 3)
	_ = b.Update([]float32{0, 1, 0}, 1, 3)
	if err := a.Merge(b); err != nil {
		panic(err)
	}
	l0, _ := a.Compute()
	fmt.Println(l0)
	// Output: [1.5]
}

// A state moves between processes as bytes, into a metric of the same
// configuration.
func ExampleL0Norm_MarshalBinary() {
	worker, _ := metric.NewL0Norm[float32](2)
	_ = worker.Update([]float32{1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1}, 2, 2, 3)
	state, err := worker.MarshalBinary()
	if err != nil {
		panic(err)
	}

	total, _ := metric.NewL0Norm[float32](2)
	if err := total.UnmarshalBinary(state); err != nil {
		panic(err)
	}
	l0, _ := total.Compute()
	fmt.Println(len(state), "bytes:", l0)

	wrong, _ := metric.NewL0Norm[float32](3)
	fmt.Println(wrong.UnmarshalBinary(state))
	// Output:
	// 60 bytes: [1.5 2]
	// metric: configurations differ: state of 2 components, metric of 3
}

// Per-feature activity: which features fire how often.
func ExampleFeatureActivity() {
	a, _ := metric.NewFeatureActivity[float32](0, 4)
	x := []float32{
		1, 0, 0, 3,
		2, 0, 0, 0,
		5, 0, 1, 0,
		7, 0, 0, 0,
	}
	_ = a.Update(x, 4, 4)
	fmt.Println("counts: ", a.Counts())
	density, _ := a.Density()
	fmt.Println("density:", density)
	fmt.Println("dead:   ", a.Dead())
	dense, _ := a.Dense(0.5)
	fmt.Println("dense:  ", dense)
	l0, _ := a.L0()
	fmt.Println("l0:     ", l0)
	// Output:
	// counts:  [4 0 1 1]
	// density: [1 0 0.25 0.25]
	// dead:    [1]
	// dense:   [0]
	// l0:      [1.5]
}

// The log10 density histogram, in fixed bins.
func ExampleFeatureActivity_Histogram() {
	a, _ := metric.NewFeatureActivity[uint8](0, 5)
	x := make([]uint8, 1000*5)
	for i := range 1000 {
		x[i*5+0] = 1 // density 1
		if i%10 == 0 {
			x[i*5+1] = 1 // density 0.1
		}
		if i%100 == 0 {
			x[i*5+2] = 1 // density 0.01
		}
		if i == 0 {
			x[i*5+3] = 1 // density 0.001
		}
		// feature 4 never fires
	}
	_ = a.Update(x, 1000, 5)
	h, _ := a.Histogram()
	for k, n := range h.Counts {
		if n > 0 {
			fmt.Printf("[%g, %g): %d\n", h.Edges[k], h.Edges[k+1], n)
		}
	}
	fmt.Println("underflow:", h.Underflow, "dead:", h.Dead)
	// Output:
	// [-3, -2.5): 1
	// [-2, -1.5): 1
	// [-1, -0.5): 1
	// [-0.5, 0): 1
	// underflow: 0 dead: 1
}

// Workers each count their shard; their states travel as bytes and merge
// into the activity of the whole data set.
func ExampleFeatureActivity_Merge() {
	shards := [][]float32{
		{0, 2, 0, 1, 0, 0}, // worker 0: 2 vectors of 3 features
		{0, 0, 3},          // worker 1: 1 vector
	}
	total, _ := metric.NewFeatureActivity[float32](0, 3)
	for _, shard := range shards {
		worker, _ := metric.NewFeatureActivity[float32](0, 3)
		_ = worker.Update(shard, len(shard)/3, 3)
		state, _ := worker.MarshalBinary() // sent over the wire

		received, _ := metric.NewFeatureActivity[float32](0, 3)
		if err := received.UnmarshalBinary(state); err != nil {
			panic(err)
		}
		if err := total.Merge(received); err != nil {
			panic(err)
		}
	}
	fmt.Println(total.Vectors(), "vectors, counts", total.Counts(), "dead", total.Dead())
	// Output: 3 vectors, counts [1 1 1] dead []
}

// A top-k SAE's encoder gives, per vector, k feature indices and their k
// values, as torch.topk returns them: here k = 2 of 5 features for each of
// 3 vectors. UpdateSparse counts them as the dense batch would be counted: a
// ReLU can leave a zero among the top k, and it does not fire.
func ExampleUpdateSparse() {
	a, _ := metric.NewFeatureActivity[float32](0, 5)
	index := []int64{
		3, 1,
		3, 4,
		0, 3,
	}
	values := []float32{
		2.5, 0.5,
		1.0, 0, // feature 4: a zero in the top 2
		0.25, 3.0,
	}
	_ = metric.UpdateSparse(a, metric.TopK[float32, int64]{Index: index, Values: values, Batch: 3, K: 2})
	fmt.Println(a.Counts())
	l0, _ := a.L0()
	fmt.Println(l0)
	// Without values every entry fires, as sparsify counts "fired".
	fired, _ := metric.NewFeatureActivity[float32](0, 5)
	_ = metric.UpdateSparse(fired, metric.TopK[float32, int64]{Index: index, Batch: 3, K: 2})
	fmt.Println(fired.Counts())
	// Output:
	// [1 1 0 3 0]
	// [1.6666666666666667]
	// [1 1 0 3 1]
}

// Batch-top-k encoders and activation caches give a list of entries, and
// the number of vectors they came from.
func ExampleUpdateEntries() {
	m, _ := metric.NewL0Norm[float32](0)
	_ = metric.UpdateEntries(m, 4, []uint32{7, 7, 1, 9, 2}, []float32{1, 2, 0, 4, 5})
	l0, _ := m.Compute()
	fmt.Println(m.Vectors(), l0)
	// Output: 4 [1]
}

// Dead features as training code counts them: not fired in the last n
// vectors, kept by a metric made with the SinceFired option. Two shards
// merged in their order give the vectors since each feature fired over
// both.
func ExampleFeatureActivity_DeadAfter() {
	first, _ := metric.NewFeatureActivity[float32](0, 4, metric.SinceFired())
	second, _ := metric.NewFeatureActivity[float32](0, 4, metric.SinceFired())
	_ = first.Update([]float32{
		1, 0, 0, 0,
		0, 1, 0, 0,
		0, 0, 0, 0,
	}, 3, 4)
	_ = second.Update([]float32{
		0, 0, 1, 0,
		0, 0, 0, 0,
	}, 2, 4)
	_ = first.Merge(second) // second's vectors come after first's
	since, _ := first.VectorsSinceFired()
	fmt.Println(since)
	dead, _ := first.DeadAfter(3)
	fmt.Println("dead after 3 vectors:", dead)
	fmt.Println("never fired:", first.Dead())
	// Output:
	// [4 3 1 5]
	// dead after 3 vectors: [0 3]
	// never fired: [3]
}
