//go:build !amd64 || !gc || purego

package readlimit

const readBlock = 8

var readVectors func([]byte) uint64

var impl = "generic"
