package metric

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// require and assert are the few checks these tests need, spelled as
// testify spells them, so that the module needs no test dependency:
// require stops the test at the first failure, assert carries on.
var (
	require = checks{fatal: true}
	assert  = checks{}
)

type checks struct{ fatal bool }

func (c checks) fail(t testing.TB, msg string, args []any) {
	t.Helper()
	if len(args) > 0 {
		if format, ok := args[0].(string); ok {
			msg += ": " + fmt.Sprintf(format, args[1:]...)
		}
	}
	if c.fatal {
		t.Fatal(msg)
	}
	t.Error(msg)
}

func (c checks) NoError(t testing.TB, err error, args ...any) {
	t.Helper()
	if err != nil {
		c.fail(t, fmt.Sprintf("unexpected error: %v", err), args)
	}
}

func (c checks) Error(t testing.TB, err error, args ...any) {
	t.Helper()
	if err == nil {
		c.fail(t, "no error", args)
	}
}

func (c checks) ErrorIs(t testing.TB, err, target error, args ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		c.fail(t, fmt.Sprintf("error %v, want one wrapping %v", err, target), args)
	}
}

func (c checks) Equal(t testing.TB, want, got any, args ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		c.fail(t, fmt.Sprintf("got %v, want %v", got, want), args)
	}
}

func (c checks) True(t testing.TB, ok bool, args ...any) {
	t.Helper()
	if !ok {
		c.fail(t, "false, want true", args)
	}
}

func (c checks) False(t testing.TB, ok bool, args ...any) {
	t.Helper()
	if ok {
		c.fail(t, "true, want false", args)
	}
}
