// Command amd64 is the avo program that writes l0's amd64 kernels.
//
// One run writes one kernel family (-family) to one assembly file and its Go
// stubs; gen.go at the module root lists the runs. Every family reads its
// element types from asm/internal/spec, the table the NEON emitter reads too.
package main

import (
	"flag"
	"fmt"
	"os"

	. "github.com/mmcloughlin/avo/build"
)

var family = flag.String("family", "", "kernel family to generate: count, roofline, threshold or columns")

func main() {
	flag.Parse()
	ConstraintExpr("gc,!purego")
	switch *family {
	case "count":
		countKernels()
	case "roofline":
		rooflineKernels()
	case "threshold":
		thresholdKernels()
	case "columns":
		columnKernels()
	default:
		fmt.Fprintf(os.Stderr, "amd64: unknown -family %q\n", *family)
		os.Exit(2)
	}
	Generate()
}
