package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/sparsekit/l0/internal/safetensors"
)

// Write SAELens' sparsity.safetensors, log10(density + 1e-10) per
// feature, and read it back.
func ExampleWrite() {
	density := []float64{0.5, 0.01, 0}
	sparsity := make([]float32, len(density))
	for i, d := range density {
		sparsity[i] = float32(math.Log10(d + 1e-10))
	}
	var file bytes.Buffer
	tensors := []safetensors.TensorData{safetensors.Float32Tensor("sparsity", []int64{int64(len(sparsity))}, sparsity)}
	if err := safetensors.Write(&file, tensors, nil); err != nil {
		panic(err)
	}
	h, err := safetensors.ReadHeader(bytes.NewReader(file.Bytes()), int64(file.Len()))
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Tensors[0], "header", h.HeaderBytes, "bytes")
	fmt.Printf("%s\n", file.Bytes()[8:8+h.HeaderBytes])
	// Output:
	// "sparsity" F32 [3] header 64 bytes
	// {"sparsity":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}
}

// Read rows [1, 3) of a tensor at offsets, as one of several workers
// would, and all its rows from a stream of unknown size.
func ExampleHeader_NewRangeReader() {
	var file bytes.Buffer
	values := []float32{0, 1, 2, 0, 0, 5, 6, 0}
	if err := safetensors.Write(&file, []safetensors.TensorData{safetensors.Float32Tensor("acts", []int64{4, 2}, values)}, nil); err != nil {
		panic(err)
	}
	data := file.Bytes()

	h, err := safetensors.ReadHeader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		panic(err)
	}
	rd, err := h.NewRangeReader(bytes.NewReader(data), "acts", 1, 3)
	if err != nil {
		panic(err)
	}
	buf := make([]byte, 4*rd.RowBytes())
	n, err := rd.ReadRows(buf)
	fmt.Println(n, "rows from row", rd.FirstRow(), err, floats(buf[:n*rd.RowBytes()]))

	stream := io.MultiReader(bytes.NewReader(data)) // no size, no ReadAt
	h, err = safetensors.ReadHeader(stream, -1)
	if err != nil {
		panic(err)
	}
	rd, err = h.NewReader(stream, "acts")
	if err != nil {
		panic(err)
	}
	for {
		n, err := rd.ReadRows(buf[:3*rd.RowBytes()])
		if err != nil {
			fmt.Println(err) // io.EOF: the stream ended with the data
			break
		}
		fmt.Println(n, "rows:", floats(buf[:n*rd.RowBytes()]))
	}
	// Output:
	// 2 rows from row 1 <nil> [2 0 0 5]
	// 3 rows: [0 1 2 0 0 5]
	// 1 rows: [6 0]
	// EOF
}

// floats decodes float32 elements in the machine's byte order, as the
// Reader delivers them.
func floats(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.NativeEndian.Uint32(b[4*i:]))
	}
	return f
}
