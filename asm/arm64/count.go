package main

import (
	"fmt"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// countKernel is the count shape of rule r for element kernel k: the
// number of lanes of x that count.
func countKernel(r rule, k spec.Kernel) laneKernel {
	name := "count" + r.name + k.Name() + "NEON"
	return laneKernel{
		name:  name,
		width: k.Width,
		doc: []string{
			fmt.Sprintf("%s returns the number of lanes of x %s, for %s.", name, r.counts(k), types(k)),
			"It requires ASIMD (NEON), and reads whole 16-byte vectors only: it ignores the",
			fmt.Sprintf("last len(x) %% %d elements, which the caller counts.", vectorBytes/k.Width),
		},
		test: r.test(k),
	}
}
