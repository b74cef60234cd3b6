package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestCountNonZeroNaiveOracle checks the generic kernels themselves against
// a plain loop that asks each element "== 0" in its own type's arithmetic.
func TestCountNonZeroNaiveOracle(t *testing.T) {
	restore := SetLevel(Generic)
	defer restore()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range typeCases {
		for n := 0; n <= maxSweepBytes/c.width; n++ {
			b := alignedBytes(n*c.width, 0)
			c.random(rng, b)
			if got, want := c.count(b), c.naive(b); got != want {
				t.Fatalf("%s n=%d: generic %d, naive %d", c.name, n, got, want)
			}
		}
	}
}

// TestCountNonZeroLengthsOffsets: every length up to maxSweepBytes at every
// start offset in a cache line, on random data with edge values.
func TestCountNonZeroLengthsOffsets(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, c := range typeCases {
			for offset := 0; offset < 64; offset += offsetStep(c.width) {
				for n := 0; n <= maxSweepBytes/c.width; n++ {
					b := alignedBytes(n*c.width, offset)
					c.random(rng, b)
					if got, want := c.count(b), c.naive(b); got != want {
						t.Fatalf("%s offset=%d n=%d: got %d, want %d", c.name, offset, n, got, want)
					}
				}
			}
		}
	})
}

// TestCountNonZeroPatterns: all zero (each zero pattern), all non-zero (each
// edge value), and a single non-zero (or single zero) at each index.
func TestCountNonZeroPatterns(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, c := range typeCases {
			maxN := maxSweepBytes / c.width
			for n := 0; n <= maxN; n++ {
				b := alignedBytes(n*c.width, 0)
				for _, z := range c.zeros {
					c.fill(b, z)
					if got := c.count(b); got != 0 {
						t.Fatalf("%s n=%d all %#x: got %d, want 0", c.name, n, z, got)
					}
				}
				for _, v := range c.nonZeros {
					c.fill(b, v)
					if got := c.count(b); got != n {
						t.Fatalf("%s n=%d all %#x: got %d, want %d", c.name, n, v, got, n)
					}
				}
			}
			b := alignedBytes(maxN*c.width, 0)
			for i := 0; i < maxN; i++ {
				background, one := c.zeros[len(c.zeros)-1], c.nonZeros[i%len(c.nonZeros)]
				c.fill(b, background)
				c.put(b, i, one)
				if got := c.count(b); got != 1 {
					t.Fatalf("%s: one %#x at %d of %d: got %d, want 1", c.name, one, i, maxN, got)
				}
				c.fill(b, one)
				c.put(b, i, background)
				if got := c.count(b); got != maxN-1 {
					t.Fatalf("%s: one %#x at %d of %d: got %d, want %d", c.name, background, i, maxN, got, maxN-1)
				}
			}
		}
	})
}

// TestCountNonZeroGuardPages puts every length flush against a PROT_NONE
// page after its end and before its start: a kernel that reads one byte
// outside its slice faults.
func TestCountNonZeroGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mem := guardedPages(t, 2*maxSweepBytes)
		rng := rand.New(rand.NewPCG(5, 6))
		c0 := typeCases[0]
		c0.random(rng, mem[:len(mem)/4*4])
		for _, c := range typeCases {
			for n := 0; n <= maxSweepBytes/c.width; n++ {
				size := n * c.width
				for _, b := range [][]byte{mem[len(mem)-size:], mem[:size:size]} {
					var got int
					if err := catchFault(func() { got = c.count(b) }); err != nil {
						t.Fatalf("%s n=%d: read outside the slice: %v", c.name, n, err)
					}
					if want := c.naive(b); got != want {
						t.Fatalf("%s n=%d: got %d, want %d", c.name, n, got, want)
					}
				}
			}
		}
	})
}

// TestCountNonZeroPastChunks: lengths around and past ChunkBytes, all
// non-zero (the largest counts the lane counters hold) and random.
func TestCountNonZeroPastChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("long inputs")
	}
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, c := range typeCases {
			chunk := ChunkBytes / c.width
			b := alignedBytes((2*chunk+131)*c.width, 0)
			c.fill(b, c.nonZeros[0])
			for _, n := range []int{chunk - 1, chunk, chunk + 1, 2*chunk + 131} {
				if got := c.count(b[:n*c.width]); got != n {
					t.Fatalf("%s n=%d all non-zero: got %d", c.name, n, got)
				}
			}
			c.random(rng, b)
			if got, want := c.count(b), c.naive(b); got != want {
				t.Fatalf("%s n=%d random: got %d, want %d", c.name, len(b)/c.width, got, want)
			}
		}
	})
}

// TestCountNonZeroAllocs: a count allocates nothing, at any level.
func TestCountNonZeroAllocs(t *testing.T) {
	x := make([]float32, 16)
	x[3] = 1
	b := make([]BFloat16, 16)
	forEachLevel(t, func(t *testing.T) {
		if allocs := testing.AllocsPerRun(100, func() {
			_ = CountNonZero(x)
			_ = CountNonZero(b)
		}); allocs != 0 {
			t.Fatalf("CountNonZero allocates %v times per call", allocs)
		}
	})
}

func TestSetLevelClamps(t *testing.T) {
	for _, l := range []Level{Generic, AVX2, AVX512, NEON} {
		restore := SetLevel(l)
		got := Active()
		restore()
		if !Supported(got) {
			t.Fatalf("SetLevel(%s) selected %s, which this CPU cannot run", l, got)
		}
		if Supported(l) && got != l {
			t.Fatalf("SetLevel(%s) selected %s", l, got)
		}
	}
	if Active() != Best() {
		t.Fatalf("restore left %s active, want %s", Active(), Best())
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range []Level{Generic, AVX2, AVX512, NEON} {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Fatalf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLevel("sse2"); err == nil {
		t.Fatal("ParseLevel accepted an unknown level")
	}
	if Level(9).String() != "Level(9)" {
		t.Fatalf("Level(9).String() = %q", Level(9).String())
	}
}
