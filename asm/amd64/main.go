// Command amd64 is the avo program that writes l0's amd64 kernels.
//
// The kernels come in families, one per rule of counting (nonzero: x != 0;
// above: x > t; abs: |x| > t), each in every shape (count: a run of lanes;
// columns: per-column counts of a matrix tile; stream: per-column counts of
// whole rows in order) and ISA (AVX-512, AVX2); and the index family of
// sparse entries (index.go: a range check, a value mask per rule, a
// scatter and a widening). A family registers itself in families from its
// own file; the shapes are count.go, columns.go and stream.go, and every
// family reads its element types from asm/internal/spec, the table the NEON
// emitter reads too.
//
//	amd64 -kernels DIR -pkg kernel      every family, DIR/z<family>_amd64.{s,go}
//	amd64 -family NAME -out F.s -stubs F.go -pkg kernel      one family
//
// gen.go at the module root holds the command lines. avo builds one file per
// run from global state, so -kernels runs this program once per family.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	. "github.com/mmcloughlin/avo/build"
)

// families maps a family's name to the function that writes its kernels.
// Each family's file adds itself; the read-limit kernels of the benchmarks
// are not a kernel family, and only -family readlimit writes them.
var families = map[string]func(){"readlimit": readLimitKernels}

// register adds a kernel family.
func register(name string, kernels func()) { families[name] = kernels }

var (
	family  = flag.String("family", "", "the family to write to -out and -stubs")
	kernels = flag.String("kernels", "", "write every kernel family to `DIR`/z<family>_amd64.s and .go")
)

func main() {
	flag.Parse()
	switch {
	case *kernels != "" && *family == "":
		if err := writeAll(*kernels); err != nil {
			fmt.Fprintln(os.Stderr, "amd64:", err)
			os.Exit(1)
		}
	case families[*family] != nil && *kernels == "":
		ConstraintExpr("gc,!purego")
		families[*family]()
		Generate()
	default:
		fmt.Fprintf(os.Stderr, "usage: amd64 -kernels DIR -pkg NAME, or amd64 -family NAME -out FILE.s -stubs FILE.go -pkg NAME (families: %v)\n", names())
		os.Exit(2)
	}
}

// writeAll runs this program once per kernel family, in name order.
func writeAll(dir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pkg := flag.Lookup("pkg").Value.String()
	for _, name := range names() {
		if name == "readlimit" {
			continue
		}
		base := filepath.Join(dir, "z"+name+"_amd64")
		cmd := exec.Command(self, "-family", name, "-out", base+".s", "-stubs", base+".go", "-pkg", pkg)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("family %s: %w", name, err)
		}
	}
	return nil
}

func names() []string {
	var ns []string
	for n := range families {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}
