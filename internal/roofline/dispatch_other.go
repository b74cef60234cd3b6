//go:build !amd64 || !gc || purego

package roofline

const readBlock = 8

var readVectors func([]byte) uint64

var impl = "generic"
