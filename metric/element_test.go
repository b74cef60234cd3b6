package metric

import (
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestElementTable checks the table of element types against the binary
// format's tags as the package documentation lists them, and that every row
// has its kernels for every rule it counts by and every index type.
func TestElementTable(t *testing.T) {
	testElementRow[float32](t, 1, "float32", true)
	testElementRow[float64](t, 2, "float64", true)
	testElementRow[kernel.Float16](t, 3, "float16", true)
	testElementRow[kernel.BFloat16](t, 4, "bfloat16", true)
	testElementRow[int8](t, 5, "int8", false)
	testElementRow[int16](t, 6, "int16", false)
	testElementRow[int32](t, 7, "int32", false)
	testElementRow[int64](t, 8, "int64", false)
	testElementRow[uint8](t, 9, "uint8", false)
	testElementRow[uint16](t, 10, "uint16", false)
	testElementRow[uint32](t, 11, "uint32", false)
	testElementRow[uint64](t, 12, "uint64", false)
	assert.Len(t, elementTypes, 12)
	assert.Equal(t, "unknown", elementName(0))
	assert.Equal(t, "unknown", elementName(13))
}

func testElementRow[T kernel.Element](t *testing.T, tag byte, name string, float bool) {
	got, row := elementOf[T]()
	require.Equal(t, tag, got, name)
	assert.Equal(t, name, row.name)
	assert.Equal(t, name, elementName(tag))
	k, err := kernelsOf[T](NonZero())
	require.NoError(t, err)
	assert.NotNil(t, k.count, name)
	assert.NotNil(t, k.countRows, name)
	assert.NotNil(t, k.addColumns, name)
	var rules []Rule
	for _, r := range []Rule{Above(0.5), AbsAbove(0.5)} {
		_, err := kernelsOf[T](r)
		if !float {
			assert.ErrorIs(t, err, ErrConfig, "%s counts by %s", name, r)
			continue
		}
		require.NoError(t, err, name)
		rules = append(rules, r)
	}
	for _, r := range rules {
		k, err := kernelsOf[T](r)
		require.NoError(t, err)
		assert.NotNil(t, k.count, "%s %s", name, r)
		assert.NotNil(t, k.countRows, "%s %s", name, r)
		assert.NotNil(t, k.addColumns, "%s %s", name, r)
		assert.NotNil(t, indexKernel[int32](k), "%s %s int32", name, r)
		assert.NotNil(t, indexKernel[int64](k), "%s %s int64", name, r)
		assert.NotNil(t, indexKernel[uint16](k), "%s %s uint16", name, r)
		assert.NotNil(t, indexKernel[uint32](k), "%s %s uint32", name, r)
	}
}
