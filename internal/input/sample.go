package input

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"

	"github.com/sparsekit/l0/internal/npy"
)

// Sample returns the built-in sample's bytes. They are made in memory
// first, so that the throughput a report gives is the counting's, not the
// random generator's.
func Sample() []byte {
	var b bytes.Buffer
	b.Grow(int(newSample().size()))
	b.ReadFrom(newSample()) // a sample never fails to read
	return b.Bytes()
}

// OpenSample opens the built-in sample's bytes as an input.
func OpenSample(data []byte, o Options) (*Input, error) {
	return OpenReader(SampleName, bytes.NewReader(data), int64(len(data)), o)
}

// The built-in sample is what l0 reports without arguments: the learned
// activations of a made-up sparse autoencoder with two components, as a
// float32 .npy file of shape (sampleVectors, sampleComponents,
// sampleFeatures). It is generated deterministically, and read through the
// same parser and reader as a file.
const (
	// SampleName names the built-in sample in reports.
	SampleName       = "built-in sample"
	sampleVectors    = 4096
	sampleComponents = 2
	sampleFeatures   = 2048
)

// sample generates the .npy stream. Each feature fires independently in
// each vector with its own probability, drawn so that the densities look
// like a trained SAE's: log-normal around 1% (a little higher in the second
// component), a few per cent dead, a handful dense. Its activations are
// positive, exponentially distributed, as after a ReLU.
type sample struct {
	pending []byte // the rest of the header, then of the current row
	rng     *rand.Rand
	density []float64 // per component and feature
	scale   []float64 // per component and feature: the mean activation
	next    []int     // per component and feature: the next vector it fires in
	row     []byte    // one vector's bytes
	vector  int       // the next vector to generate
}

func newSample() *sample {
	const slots = sampleComponents * sampleFeatures
	s := &sample{
		pending: npy.AppendHeader(nil, "<f4", sampleVectors, sampleComponents, sampleFeatures),
		rng:     rand.New(rand.NewPCG(0x5ae, 0x10)),
		density: make([]float64, slots),
		scale:   make([]float64, slots),
		next:    make([]int, slots),
		row:     make([]byte, 4*slots),
	}
	for i := range s.density {
		component := i / sampleFeatures
		switch u := s.rng.Float64(); {
		case u < 0.03: // dead
			s.density[i] = 0
		case u < 0.035: // dense
			s.density[i] = 0.1 + 0.3*s.rng.Float64()
		default:
			logDensity := -2.2 + 0.3*float64(component) + 0.5*s.rng.NormFloat64()
			s.density[i] = math.Pow(10, min(logDensity, 0))
		}
		s.scale[i] = 0.5 + 2*s.rng.Float64()
		s.next[i] = s.gap(i) - 1
	}
	return s
}

// size returns the length of the stream in bytes.
func (s *sample) size() int64 {
	return int64(len(s.pending)) + int64(sampleVectors)*int64(len(s.row))
}

// gap draws the number of vectors to the next one feature i fires in:
// geometric, so that generating a vector costs its non-zero elements, not
// its length.
func (s *sample) gap(i int) int {
	p := s.density[i]
	switch {
	case p <= 0:
		return math.MaxInt / 2
	case p >= 1:
		return 1
	}
	u := 1 - s.rng.Float64() // in (0, 1]
	return 1 + int(min(math.Log(u)/math.Log1p(-p), math.MaxInt/4))
}

// Read implements io.Reader.
func (s *sample) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.pending) == 0 {
			if s.vector == sampleVectors {
				break
			}
			s.generate()
		}
		k := copy(p[n:], s.pending)
		s.pending = s.pending[k:]
		n += k
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// generate makes the next vector's bytes pending.
func (s *sample) generate() {
	clear(s.row)
	for i, next := range s.next {
		if next != s.vector {
			continue
		}
		v := float32(s.scale[i] * (0.01 + s.rng.ExpFloat64()))
		binary.LittleEndian.PutUint32(s.row[4*i:], math.Float32bits(v))
		s.next[i] += s.gap(i)
	}
	s.vector++
	s.pending = s.row
}
