package kernel

import (
	"errors"
	"fmt"
)

// ErrShape is the error, wrapped with the details, of a column or row count
// whose slice is not a matrix of the shape its counts describe: len(counts)
// columns for the Add...Columns functions, whole rows of width elements for
// the Count...Rows functions.
var ErrShape = errors.New("kernel: x does not have the shape the counts need")

// checkColumns checks that n elements are whole rows of cols columns.
func checkColumns(cols, n int) error {
	switch {
	case cols == 0 && n > 0:
		return fmt.Errorf("%w: %d elements but no columns", ErrShape, n)
	case cols > 0 && n%cols != 0:
		return fmt.Errorf("%w: %d elements are not whole rows of %d columns", ErrShape, n, cols)
	}
	return nil
}

// checkRows checks that n elements are whole rows of width elements, to be
// counted into slots counts.
func checkRows(slots, n, width int) error {
	switch {
	case n == 0:
		return nil
	case slots == 0:
		return fmt.Errorf("%w: %d elements to count into no counts", ErrShape, n)
	case width <= 0:
		return fmt.Errorf("%w: rows of %d elements", ErrShape, width)
	case n%width != 0:
		return fmt.Errorf("%w: %d elements are not whole rows of %d", ErrShape, n, width)
	}
	return nil
}
