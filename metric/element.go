package metric

import "github.com/sparsekit/l0/kernel"

// elementNames are the element types in the order of their tags in the
// binary format: tag i+1 is elementNames[i]. Never reorder; append.
var elementNames = [...]string{
	"float32", "float64", "float16", "bfloat16",
	"int8", "int16", "int32", "int64",
	"uint8", "uint16", "uint32", "uint64",
}

// elementTag returns the binary format's tag of T, 1 to 12.
func elementTag[T kernel.Element]() byte {
	var zero T
	switch any(zero).(type) {
	case float32:
		return 1
	case float64:
		return 2
	case kernel.Float16:
		return 3
	case kernel.BFloat16:
		return 4
	case int8:
		return 5
	case int16:
		return 6
	case int32:
		return 7
	case int64:
		return 8
	case uint8:
		return 9
	case uint16:
		return 10
	case uint32:
		return 11
	case uint64:
		return 12
	}
	panic("unreachable: kernel.Element has no other types")
}

// elementName returns the name of the element type a tag stands for.
func elementName(tag byte) string {
	if tag >= 1 && int(tag) <= len(elementNames) {
		return elementNames[tag-1]
	}
	return "unknown"
}
