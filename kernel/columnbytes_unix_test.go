//go:build unix

package kernel

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestColumnBytesGuardPages: the byte-counter column counts read no byte
// outside x and write no counter outside counts, each slice ending against
// a PROT_NONE page (and starting after one), at every level, for columns
// on both sides of the runs counted in place.
func TestColumnBytesGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(79, 80))
		for _, c := range []struct {
			name  string
			width int
		}{{"u8", 1}, {"f16", 2}, {"f32", 4}, {"f64", 8}} {
			for _, cols := range []int{1, 7, 31, 63, 64, 65, 100, 128, 129} {
				for _, rows := range []int{1, 3, 5} {
					n := rows * cols * c.width
					xm, cm := guardedPages(t, n), guardedPages(t, cols)
					for _, placed := range []struct{ x, counts []byte }{
						{xm[len(xm)-n:], cm[len(cm)-cols:]}, // against the page after
						{xm[:n], cm[:cols]},                 // after the page before
					} {
						for i := range placed.x {
							placed.x[i] = byte(rng.Uint32())
						}
						counts := placed.counts
						err := catchFault(func() {
							switch c.width {
							case 1:
								_ = AddNonZeroColumnBytes(counts, guardElements[uint8](placed.x))
							case 2:
								_ = AddNonZeroColumnBytes(counts, guardElements[Float16](placed.x))
								_ = AddAboveColumnBytes(counts, guardElements[Float16](placed.x), 0.5)
							case 4:
								_ = AddNonZeroColumnBytes(counts, guardElements[float32](placed.x))
								_ = AddAbsAboveColumnBytes(counts, guardElements[float32](placed.x), 0.5)
							default:
								_ = AddNonZeroColumnBytes(counts, guardElements[float64](placed.x))
								_ = AddAboveColumnBytes(counts, guardElements[float64](placed.x), -0.5)
							}
						})
						if err != nil {
							t.Fatalf("%s %dx%d: %v", c.name, rows, cols, err)
						}
					}
				}
			}
		}
	})
}

// guardElements reinterprets b as elements of T.
func guardElements[T Element](b []byte) []T {
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}
