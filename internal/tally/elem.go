package tally

import (
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// Elem is the element type the counts of an input are of: a kernel.Element.
// Its values are the element tags of metric's binary format (1 float32 to
// 12 uint64), so that a state file's tag is its Elem.
type Elem uint8

// The element types, in the order of metric's tags.
const (
	Invalid Elem = iota
	Float32
	Float64
	Float16
	BFloat16
	Int8
	Int16
	Int32
	Int64
	Uint8
	Uint16
	Uint32
	Uint64
)

// elems is the one table of the element types: a new type is a row here
// (and its dtypes in internal/input).
var elems = [...]struct {
	name  string
	size  int
	float bool
	new   func(Config, metric.Rule, bool) (Tally, error)
}{
	Float32:  {"float32", 4, true, newTyped[float32]},
	Float64:  {"float64", 8, true, newTyped[float64]},
	Float16:  {"float16", 2, true, newTyped[kernel.Float16]},
	BFloat16: {"bfloat16", 2, true, newTyped[kernel.BFloat16]},
	Int8:     {"int8", 1, false, newTyped[int8]},
	Int16:    {"int16", 2, false, newTyped[int16]},
	Int32:    {"int32", 4, false, newTyped[int32]},
	Int64:    {"int64", 8, false, newTyped[int64]},
	Uint8:    {"uint8", 1, false, newTyped[uint8]},
	Uint16:   {"uint16", 2, false, newTyped[uint16]},
	Uint32:   {"uint32", 4, false, newTyped[uint32]},
	Uint64:   {"uint64", 8, false, newTyped[uint64]},
}

// Elems returns every valid element type, in order.
func Elems() []Elem {
	all := make([]Elem, 0, len(elems)-1)
	for e := Float32; e.Valid(); e++ {
		all = append(all, e)
	}
	return all
}

// Valid reports whether e is an element type l0 counts.
func (e Elem) Valid() bool { return e > Invalid && int(e) < len(elems) }

// String returns the type's Go name: float32, bfloat16, uint8.
func (e Elem) String() string {
	if !e.Valid() {
		return "invalid"
	}
	return elems[e].name
}

// Size returns the size of an element in bytes.
func (e Elem) Size() int {
	if !e.Valid() {
		return 0
	}
	return elems[e].size
}

// IsFloat reports whether e is a floating-point type.
func (e Elem) IsFloat() bool { return e.Valid() && elems[e].float }
