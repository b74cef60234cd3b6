package safetensors

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// TensorData is a tensor to write.
type TensorData struct {
	Name  string
	DType DType
	Shape []int64 // empty or nil for a rank-0 tensor
	Data  []byte  // the elements, row-major and little-endian
}

// Float32Tensor returns a float32 tensor to write, its values encoded
// little-endian.
func Float32Tensor(name string, shape []int64, values []float32) TensorData {
	data := make([]byte, 0, 4*len(values))
	for _, v := range values {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	return TensorData{Name: name, DType: Float32, Shape: shape, Data: data}
}

// Write writes a safetensors file of the tensors and metadata to w, laid
// out byte for byte as the reference writer lays it out: the header JSON
// without spaces, "__metadata__" first when metadata is not nil (an empty,
// non-nil map writes {}), its keys sorted (the reference takes them in its
// hash map's order), then each tensor's {"dtype","shape","data_offsets"},
// the tensors sorted by dtype, descending in the order of the DType
// constants, then by name; strings escaped as serde_json escapes them;
// the header padded with spaces to a multiple of 8 bytes; then the data in
// the same order. It checks the tensors first and writes nothing when one
// is invalid: a name that is "__metadata__", repeated or not UTF-8; an
// invalid dtype; a negative dimension; data of other than the shape's
// size; a header longer than MaxHeaderBytes.
func Write(w io.Writer, tensors []TensorData, metadata map[string]string) error {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(tensors[b].DType, tensors[a].DType), cmp.Compare(tensors[a].Name, tensors[b].Name))
	})
	header, err := writeHeader(tensors, order, metadata)
	if err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, i := range order {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// writeHeader returns the length field and the padded header of the
// tensors in the given order, checking each.
func writeHeader(tensors []TensorData, order []int, metadata map[string]string) ([]byte, error) {
	tooLong := func() error {
		return fmt.Errorf("safetensors: the header would be more than the %d bytes readers take", MaxHeaderBytes)
	}
	b := make([]byte, lengthBytes, 256)
	b = append(b, '{')
	if metadata != nil {
		b = appendString(b, "__metadata__")
		b = append(b, ":{"...)
		for i, k := range slices.Sorted(maps.Keys(metadata)) {
			if len(b)+len(k)+len(metadata[k]) > lengthBytes+MaxHeaderBytes {
				return nil, tooLong() // escaping only lengthens them
			}
			if !utf8.ValidString(k) || !utf8.ValidString(metadata[k]) {
				return nil, fmt.Errorf("safetensors: the metadata %s: %s is not UTF-8", quote(k), quote(metadata[k]))
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, metadata[k])
		}
		b = append(b, '}')
	}
	offset := int64(0)
	for n, i := range order {
		t := &tensors[i]
		if err := t.check(); err != nil {
			return nil, err
		}
		if n > 0 && t.Name == tensors[order[n-1]].Name {
			return nil, fmt.Errorf("safetensors: two tensors are named %s", quote(t.Name))
		}
		if metadata != nil || n > 0 {
			b = append(b, ',')
		}
		b = appendString(b, t.Name)
		b = append(b, `:{"dtype":`...)
		b = appendString(b, t.DType.String())
		b = append(b, `,"shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, d, 10)
		}
		b = append(b, `],"data_offsets":[`...)
		b = strconv.AppendInt(b, offset, 10)
		b = append(b, ',')
		offset += int64(len(t.Data))
		b = strconv.AppendInt(b, offset, 10)
		b = append(b, "]}"...)
	}
	b = append(b, '}')
	for (len(b)-lengthBytes)%8 != 0 {
		b = append(b, ' ')
	}
	n := len(b) - lengthBytes
	if n > MaxHeaderBytes {
		return nil, tooLong()
	}
	binary.LittleEndian.PutUint64(b, uint64(n))
	return b, nil
}

// check checks a tensor to write is one ReadHeader accepts.
func (t *TensorData) check() error {
	switch {
	case t.Name == "__metadata__":
		return errors.New(`safetensors: a tensor may not be named "__metadata__"`)
	case !utf8.ValidString(t.Name):
		return fmt.Errorf("safetensors: the tensor name %s is not UTF-8", quote(t.Name))
	case !t.DType.Valid():
		return fmt.Errorf("safetensors: tensor %s: invalid dtype %v", quote(t.Name), t.DType)
	}
	info := Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("safetensors: tensor %s: a negative dimension in the shape %s", quote(t.Name), info.shapeText())
		}
	}
	need, err := info.size()
	if err != nil {
		return fmt.Errorf("safetensors: %v", err)
	}
	if int64(len(t.Data)) != need {
		return fmt.Errorf("safetensors: tensor %s: %d bytes of data, the shape %s of %s needs %d", quote(t.Name), len(t.Data), info.shapeText(), t.DType, need)
	}
	return nil
}

// appendString appends s as a JSON string, escaped as serde_json escapes
// it: the quote, the backslash and the control characters, \b \t \n \f \r
// by name and the others as \u00xx in lower case; nothing else.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\f':
			b = append(b, `\f`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
