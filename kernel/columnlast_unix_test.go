//go:build unix

package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestColumnBytesLastGuardPages: the marking column counts read no byte
// outside x and write none outside counts and lastb, each slice ending
// against a PROT_NONE page (and starting after one), at every level.
func TestColumnBytesLastGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(87, 88))
		for _, width := range []int{1, 2, 4, 8} {
			for _, cols := range []int{1, 63, 64, 65, 128, 129} {
				for _, rows := range []int{1, 5} {
					n := rows * cols * width
					xm, cm, lm := guardedPages(t, n), guardedPages(t, cols), guardedPages(t, cols)
					for _, placed := range []struct{ x, counts, lastb []byte }{
						{xm[len(xm)-n:], cm[len(cm)-cols:], lm[len(lm)-cols:]},
						{xm[:n], cm[:cols], lm[:cols]},
					} {
						for i := range placed.x {
							placed.x[i] = byte(rng.Uint32())
						}
						c, l := placed.counts, placed.lastb
						err := catchFault(func() {
							switch width {
							case 1:
								_ = AddNonZeroColumnBytesLast(c, l, guardElements[uint8](placed.x), 0)
							case 2:
								_ = AddNonZeroColumnBytesLast(c, l, guardElements[Float16](placed.x), 0)
								_ = AddAboveColumnBytesLast(c, l, guardElements[Float16](placed.x), 0.5, 7)
							case 4:
								_ = AddNonZeroColumnBytesLast(c, l, guardElements[float32](placed.x), 0)
								_ = AddAbsAboveColumnBytesLast(c, l, guardElements[float32](placed.x), 0.5, 9)
							default:
								_ = AddNonZeroColumnBytesLast(c, l, guardElements[float64](placed.x), 0)
								_ = AddAboveColumnBytesLast(c, l, guardElements[float64](placed.x), -0.5, 250)
							}
						})
						if err != nil {
							t.Fatalf("width %d %dx%d: %v", width, rows, cols, err)
						}
					}
				}
			}
		}
	})
}
