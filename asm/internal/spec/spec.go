// Package spec is the one description of l0's element types that every
// kernel backend reads: the avo program for amd64 and the NEON emitter for
// arm64 generate their kernels from the tables below, so that every ISA
// counts exactly the same bits.
package spec

import "fmt"

// Element is one element type of kernel.Element.
type Element struct {
	GoType string // the Go type name as the kernel package spells it
	Width  int    // bytes per element: 1, 2, 4 or 8
	Float  bool   // the sign bit does not count: +0 and -0 are both zero
}

// Elements lists every element type the kernels count, in the order the
// documentation presents them.
var Elements = []Element{
	{GoType: "float32", Width: 4, Float: true},
	{GoType: "float64", Width: 8, Float: true},
	{GoType: "Float16", Width: 2, Float: true},
	{GoType: "BFloat16", Width: 2, Float: true},
	{GoType: "int8", Width: 1},
	{GoType: "int16", Width: 2},
	{GoType: "int32", Width: 4},
	{GoType: "int64", Width: 8},
	{GoType: "uint8", Width: 1},
	{GoType: "uint16", Width: 2},
	{GoType: "uint32", Width: 4},
	{GoType: "uint64", Width: 8},
}

// Kernel is one distinct counting problem: a lane width and the bits of a
// lane that count. Element types that share both (int32 and uint32, Float16
// and BFloat16) share a kernel.
type Kernel struct {
	Width int
	Float bool
}

// Kernels returns the distinct kernels of Elements, ordered by width, the
// integer kernel before the float one.
func Kernels() []Kernel {
	var ks []Kernel
	for _, w := range []int{1, 2, 4, 8} {
		for _, f := range []bool{false, true} {
			for _, e := range Elements {
				if e.Width == w && e.Float == f {
					ks = append(ks, Kernel{Width: w, Float: f})
					break
				}
			}
		}
	}
	return ks
}

// Bits is the lane width in bits.
func (k Kernel) Bits() int { return 8 * k.Width }

// Name is the kernel's name in generated symbols: "Bits32" counts every
// non-zero 32-bit pattern, "Float32" every pattern that is non-zero once the
// sign bit is cleared.
func (k Kernel) Name() string {
	if k.Float {
		return fmt.Sprintf("Float%d", k.Bits())
	}
	return fmt.Sprintf("Bits%d", k.Bits())
}

// GoWord is the unsigned Go type of one lane, the element type of the slice
// a generated kernel takes.
func (k Kernel) GoWord() string { return fmt.Sprintf("uint%d", k.Bits()) }

// Mask is the set of bits of a lane that decide whether it is non-zero.
func (k Kernel) Mask() uint64 {
	all := ^uint64(0) >> (64 - k.Bits())
	if k.Float {
		return all >> 1
	}
	return all
}

// Types lists the Go element types that this kernel counts.
func (k Kernel) Types() []string {
	var ts []string
	for _, e := range Elements {
		if e.Width == k.Width && e.Float == k.Float {
			ts = append(ts, e.GoType)
		}
	}
	return ts
}
