package input

import (
	"fmt"
	"io"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/window"
)

// openNPY reads a .npy header: its rows are read at offsets from ra, or
// in order from r when the size is not known (a stream).
func (in *Input) openNPY(r io.Reader, ra io.ReaderAt, size int64) error {
	rd, err := npy.Open(r, size)
	if err != nil {
		return err
	}
	h := rd.Header
	in.Format, in.Shape, in.DType = NPY, h.Shape, h.Descr
	in.Config.Elem = NPYElem(h.DType)
	in.Describe = fmt.Sprintf("%s %s (%s), .npy format %d.%d", h.ShapeString(), h.DType.Name(), h.Descr, h.Major, h.Minor)
	in.DataBytes = h.DataBytes()
	layout := window.Layout{Offset: h.DataOffset, RowBytes: rd.RowBytes(), Rows: h.Shape[0], ElemSize: h.DType.Size()}
	if ra != nil {
		in.rows = &denseRows{in: in, src: ra, layout: layout}
	} else {
		in.rows = &streamRows{in: in, rd: rd}
	}
	return nil
}
