package kernel

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// tableKernel is one kernel of a level's table and its place in the table,
// such as impl.nonZero.magnitude16.mask.
type tableKernel struct {
	path   string
	kernel any
}

// tableKernels returns every kernel of the table t, in the order of its
// fields: the same places, in the same order, for every level.
func tableKernels(t *impl) []tableKernel {
	var kernels []tableKernel
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Func:
			// The fields are unexported: read the function through its
			// address, as the package itself would.
			k := reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem().Interface()
			kernels = append(kernels, tableKernel{path, k})
		}
	}
	walk("impl", reflect.ValueOf(t).Elem())
	return kernels
}

// TestTablesComplete: the table of every level this CPU has holds a
// kernel for every rule, shape and lane (a missing one would be a nil
// function called at run time), but for the column streams, which are
// optional (AVX-512 has every one), as are the marking streams (columnlast.go), and the fused row pairs of bytes, which
// only the vector levels of amd64 have (pairBytes AVX2 only); and SetLevel makes it the active one.
func TestTablesComplete(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		table := active.Load()
		if table.level != Active() {
			t.Fatalf("the active table is %s's, Active says %s", table.level, Active())
		}
		kernels := tableKernels(table)
		if len(kernels) != len(tableKernels(&genericImpl)) || len(kernels) == 0 {
			t.Fatalf("%d kernels in the table", len(kernels))
		}
		for _, k := range kernels {
			optional := (strings.HasSuffix(k.path, ".stream") || strings.HasSuffix(k.path, ".streamLast")) && table.level != AVX512 || k.path == "impl.pairs8" || k.path == "impl.pairBytes"
			if reflect.ValueOf(k.kernel).IsNil() && !optional {
				t.Errorf("%s has no kernel at %s", table.level, k.path)
			}
		}
	})
}

// TestTableMembers: the accessors give, for each lane type, the member of
// the table that holds its kernels, the one the level's line names.
func TestTableMembers(t *testing.T) {
	k := &genericImpl
	n := &k.nonZero
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"bits8", nonZeroOf[uint8](n, integer), &n.bits8},
		{"bits16", nonZeroOf[uint16](n, integer), &n.bits16},
		{"magnitude16", nonZeroOf[uint16](n, binary16), &n.magnitude16},
		{"magnitude16 of bfloat16", nonZeroOf[uint16](n, bfloat16), &n.magnitude16},
		{"bits32", nonZeroOf[uint32](n, integer), &n.bits32},
		{"magnitude32", nonZeroOf[uint32](n, binary32), &n.magnitude32},
		{"bits64", nonZeroOf[uint64](n, integer), &n.bits64},
		{"magnitude64", nonZeroOf[uint64](n, binary64), &n.magnitude64},
		{"w16", rangeOf[uint16](&k.above.keyInRange), &k.above.keyInRange.w16},
		{"w32", rangeOf[uint32](&k.above.keyInRange), &k.above.keyInRange.w32},
		{"w64", rangeOf[uint64](&k.above.keyInRange), &k.above.keyInRange.w64},
		{"index w16", indexOf[uint16](&k.allEntries), &k.allEntries.w16},
		{"index w32", indexOf[uint32](&k.allEntries), &k.allEntries.w32},
		{"index w64", indexOf[uint64](&k.allEntries), &k.allEntries.w64},
		{"run all", runOf[uint32, uint8](&k.allEntries.w32.runs, true), &k.allEntries.w32.runs.all},
		{"run w8", runOf[uint32, uint8](&k.allEntries.w32.runs, false), &k.allEntries.w32.runs.w8},
		{"run w16", runOf[uint32, uint16](&k.allEntries.w32.runs, false), &k.allEntries.w32.runs.w16},
		{"run w32", runOf[uint32, uint32](&k.allEntries.w32.runs, false), &k.allEntries.w32.runs.w32},
		{"run w64", runOf[uint32, uint64](&k.allEntries.w32.runs, false), &k.allEntries.w32.runs.w64},
	} {
		if c.got != c.want {
			t.Errorf("%s: the accessor gives another member", c.name)
		}
	}
	if nonZeroOf[uint16](n, binary16).value != magnitudeValue || nonZeroOf[uint16](n, integer).value != bitsValue {
		t.Errorf("the 16-bit members test the wrong lane value")
	}
}
