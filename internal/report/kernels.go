package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/kernel"
)

// Kernels lists, per element type (and the .npy and safetensors dtypes
// counted as it), the kernel level the counting functions use and the
// levels this CPU and build can run.
func Kernels(w io.Writer) error {
	var levels []string
	for _, l := range kernel.Levels() {
		levels = append(levels, l.String())
	}
	available := strings.Join(levels, " ")
	if _, err := fmt.Fprintf(w, "%-9s %-16s %-8s %s\n", "type", "dtypes", "level", "available"); err != nil {
		return err
	}
	for _, e := range tally.Elems() {
		if _, err := fmt.Fprintf(w, "%-9s %-16s %-8s %s\n", e, input.DTypes(e), kernel.Active(), available); err != nil {
			return err
		}
	}
	return nil
}
