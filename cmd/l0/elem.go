package main

import (
	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/safetensors"
)

// elem is the element type l0 counts an array as: a kernel.Element. Its
// values are the element tags of metric's binary format (1 float32 to 12
// uint64), so that a state file's tag is its elem.
type elem uint8

const (
	elemInvalid elem = iota
	elemFloat32
	elemFloat64
	elemFloat16
	elemBFloat16
	elemInt8
	elemInt16
	elemInt32
	elemInt64
	elemUint8
	elemUint16
	elemUint32
	elemUint64
)

var elemInfo = [...]struct {
	name  string
	size  int
	float bool
}{
	elemFloat32:  {"float32", 4, true},
	elemFloat64:  {"float64", 8, true},
	elemFloat16:  {"float16", 2, true},
	elemBFloat16: {"bfloat16", 2, true},
	elemInt8:     {"int8", 1, false},
	elemInt16:    {"int16", 2, false},
	elemInt32:    {"int32", 4, false},
	elemInt64:    {"int64", 8, false},
	elemUint8:    {"uint8", 1, false},
	elemUint16:   {"uint16", 2, false},
	elemUint32:   {"uint32", 4, false},
	elemUint64:   {"uint64", 8, false},
}

func (e elem) valid() bool    { return e > elemInvalid && int(e) < len(elemInfo) }
func (e elem) String() string { return elemInfo[e].name }
func (e elem) size() int      { return elemInfo[e].size }
func (e elem) isFloat() bool  { return elemInfo[e].float }

// npyElem returns the element type of a .npy dtype: a bool is counted as
// the uint8 it is stored as (numpy writes 0 and 1; any other byte is true,
// and counts).
func npyElem(d npy.DType) elem {
	switch d {
	case npy.Float16:
		return elemFloat16
	case npy.Float32:
		return elemFloat32
	case npy.Float64:
		return elemFloat64
	case npy.Int8:
		return elemInt8
	case npy.Int16:
		return elemInt16
	case npy.Int32:
		return elemInt32
	case npy.Int64:
		return elemInt64
	case npy.Uint8, npy.Bool:
		return elemUint8
	case npy.Uint16:
		return elemUint16
	case npy.Uint32:
		return elemUint32
	case npy.Uint64:
		return elemUint64
	}
	return elemInvalid
}

// safetensorsElem returns the element type of a safetensors dtype, or
// elemInvalid for those l0 does not count (C64, the F8, F6 and F4
// variants). BOOL is counted as uint8, as for .npy.
func safetensorsElem(d safetensors.DType) elem {
	switch d {
	case safetensors.Float16:
		return elemFloat16
	case safetensors.BFloat16:
		return elemBFloat16
	case safetensors.Float32:
		return elemFloat32
	case safetensors.Float64:
		return elemFloat64
	case safetensors.Int8:
		return elemInt8
	case safetensors.Int16:
		return elemInt16
	case safetensors.Int32:
		return elemInt32
	case safetensors.Int64:
		return elemInt64
	case safetensors.Uint8, safetensors.Bool:
		return elemUint8
	case safetensors.Uint16:
		return elemUint16
	case safetensors.Uint32:
		return elemUint32
	case safetensors.Uint64:
		return elemUint64
	}
	return elemInvalid
}
