package input

import (
	"strings"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
)

// npyElems and safetensorsElems are the element type each dtype l0 reads
// is counted as; the others (C64, the F8, F6 and F4 variants) are
// tally.Invalid. A bool is counted as the uint8 it is stored as (numpy
// writes 0 and 1; any other byte is true, and counts).
var (
	npyElems = [...]tally.Elem{
		npy.Float16: tally.Float16, npy.Float32: tally.Float32, npy.Float64: tally.Float64,
		npy.Int8: tally.Int8, npy.Int16: tally.Int16, npy.Int32: tally.Int32, npy.Int64: tally.Int64,
		npy.Uint8: tally.Uint8, npy.Uint16: tally.Uint16, npy.Uint32: tally.Uint32, npy.Uint64: tally.Uint64,
		npy.Bool: tally.Uint8,
	}
	safetensorsElems = [...]tally.Elem{
		safetensors.Float16: tally.Float16, safetensors.BFloat16: tally.BFloat16,
		safetensors.Float32: tally.Float32, safetensors.Float64: tally.Float64,
		safetensors.Int8: tally.Int8, safetensors.Int16: tally.Int16, safetensors.Int32: tally.Int32, safetensors.Int64: tally.Int64,
		safetensors.Uint8: tally.Uint8, safetensors.Uint16: tally.Uint16, safetensors.Uint32: tally.Uint32, safetensors.Uint64: tally.Uint64,
		safetensors.Bool: tally.Uint8,
	}
)

// NPYElem returns the element type a .npy dtype is counted as.
func NPYElem(d npy.DType) tally.Elem {
	if int(d) < len(npyElems) {
		return npyElems[d]
	}
	return tally.Invalid
}

// SafetensorsElem returns the element type a safetensors dtype is counted
// as, or tally.Invalid for those l0 does not count.
func SafetensorsElem(d safetensors.DType) tally.Elem {
	if int(d) < len(safetensorsElems) {
		return safetensorsElems[d]
	}
	return tally.Invalid
}

// DTypes returns the .npy and safetensors dtypes counted as e, as the
// files spell them: "|u1 |b1 U8 BOOL".
func DTypes(e tally.Elem) string {
	var names []string
	for _, d := range npy.DTypes() {
		if NPYElem(d) == e {
			names = append(names, d.String())
		}
	}
	all := safetensors.DTypes()
	for i := len(all) - 1; i >= 0; i-- { // as the reference names them: U8 before BOOL
		if SafetensorsElem(all[i]) == e {
			names = append(names, all[i].String())
		}
	}
	return strings.Join(names, " ")
}

// countedDTypes lists the safetensors dtypes l0 counts.
const countedDTypes = "F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL"
