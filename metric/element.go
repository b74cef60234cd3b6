package metric

import "github.com/sparsekit/l0/kernel"

// elementTypes is the table of the element types a metric counts, one row
// each, in the order of their tags in the binary format: tag i+1 is
// elementTypes[i]. Never reorder; append. A new element type of package
// kernel is one row here: its name in states and errors, and its kernels,
// instantiated for it by floatType (which adds the thresholded rules) or
// integerType.
var elementTypes = [...]elementType{
	floatType[float32]("float32"),
	floatType[float64]("float64"),
	floatType[kernel.Float16]("float16"),
	floatType[kernel.BFloat16]("bfloat16"),
	integerType[int8]("int8"),
	integerType[int16]("int16"),
	integerType[int32]("int32"),
	integerType[int64]("int64"),
	integerType[uint8]("uint8"),
	integerType[uint16]("uint16"),
	integerType[uint32]("uint32"),
	integerType[uint64]("uint64"),
}

// elementType is one row of the table: an element type E, its name, and its
// kernels. The kernels are held as values of type any because the rows are
// of different types E; the dynamic type of nonZero (*kernels[E]) is also
// what finds the row of a type (elementOf).
type elementType struct {
	name string
	// nonZero is a *kernels[E], the kernels of the NonZero rule.
	nonZero any
	// threshold, for the float types, is a func(Rule) *kernels[E] that
	// returns a thresholded rule's kernels (Above, AbsAbove); nil for the
	// integer types, which count by NonZero only.
	threshold any
}

// integerType returns the row of an element type counted by NonZero only.
func integerType[E kernel.Element](name string) elementType {
	return elementType{name: name, nonZero: nonZeroKernels[E]()}
}

// floatType returns the row of a float element type, which also counts by
// the thresholded rules.
func floatType[F kernel.Float](name string) elementType {
	return elementType{name: name, nonZero: nonZeroKernels[F](), threshold: thresholdKernels[F]}
}

// elementOf returns T's binary tag (1 to len(elementTypes)) and row.
func elementOf[T kernel.Element]() (byte, *elementType) {
	for i := range elementTypes {
		if _, ok := elementTypes[i].nonZero.(*kernels[T]); ok {
			return byte(i + 1), &elementTypes[i]
		}
	}
	panic("metric: element type without a row in elementTypes")
}

// elementTag returns the binary format's tag of T.
func elementTag[T kernel.Element]() byte {
	tag, _ := elementOf[T]()
	return tag
}

// elementName returns the name of the element type a tag stands for.
func elementName(tag byte) string {
	if tag >= 1 && int(tag) <= len(elementTypes) {
		return elementTypes[tag-1].name
	}
	return "unknown"
}
