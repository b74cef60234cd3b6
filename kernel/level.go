package kernel

import (
	"fmt"
	"sync/atomic"
)

// Level is a family of kernels: the instruction set a count runs on.
type Level uint8

const (
	// Generic is portable Go, branch-free, eight bytes at a time. It runs
	// everywhere and is the oracle every other level is tested against.
	Generic Level = iota
	// AVX2 is 256-bit vectors on amd64 (Haswell and later).
	AVX2
	// AVX512 is 512-bit vectors with mask registers on amd64 (AVX512F and
	// AVX512BW: Skylake-X, Ice Lake, Zen 4 and later).
	AVX512
	// NEON is 128-bit Advanced SIMD on arm64.
	NEON
)

var levelNames = [...]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512", NEON: "neon"}

// String returns the level's name as ParseLevel, the benchmarks and
// L0_REQUIRE_LEVEL spell it: generic, avx2, avx512 or neon.
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// ParseLevel returns the level that String names.
func ParseLevel(name string) (Level, error) {
	for l, n := range levelNames {
		if n == name {
			return Level(l), nil
		}
	}
	return Generic, fmt.Errorf("kernel: unknown level %q (want generic, avx2, avx512 or neon)", name)
}

// fallback is the level to try when l is not available.
func (l Level) fallback() Level {
	if l == AVX512 {
		return AVX2
	}
	return Generic
}

// available lists the levels this CPU and build can run, ascending, Generic
// first. It is computed once, at start-up, from golang.org/x/sys/cpu, which
// honours GODEBUG switches such as cpu.avx512f=off and the operating
// system's support for the wide registers.
var available = detectLevels()

// active is the table of kernels in use (impl.go): the best available
// level's, unless a test or benchmark pinned another with SetLevel. Every
// family reads it the same way, once per call.
var active atomic.Pointer[impl]

func init() { active.Store(implFor(Best())) }

// Levels returns the levels this CPU and build can run, ascending; Generic is
// always first. The slice is a copy.
func Levels() []Level { return append([]Level(nil), available...) }

// Best returns the fastest level this CPU and build can run: the one chosen
// at start-up.
func Best() Level { return available[len(available)-1] }

// Active returns the level the counting functions use now.
func Active() Level { return active.Load().level }

// Supported reports whether this CPU and build can run l.
func Supported(l Level) bool {
	for _, a := range available {
		if a == l {
			return true
		}
	}
	return false
}

// SetLevel makes the counting functions use l, or, if this CPU or build
// cannot run l, the best level below it that it can (AVX512 falls back to
// AVX2, everything else to Generic), so that it never selects an
// instruction the CPU lacks. It returns the function that restores the
// previous level. It is meant for tests and benchmarks: the switch is
// atomic, but a count that runs concurrently may use either level.
func SetLevel(l Level) (restore func()) {
	for !Supported(l) {
		l = l.fallback()
	}
	previous := active.Swap(implFor(l))
	return func() { active.Store(previous) }
}
