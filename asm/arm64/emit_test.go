package main

import "testing"

// TestCMHS checks the machine words of CMHS against an independent
// assembler: llvm-mc -triple=aarch64 -show-encoding printed these for
// "cmhs v0.8h, v12.8h, v0.8h", "cmhs v1.4s, v12.4s, v1.4s" and
// "cmhs v3.2d, v12.2d, v3.2d".
func TestCMHS(t *testing.T) {
	for _, c := range []struct {
		width   int
		d, n, m int
		want    uint32
	}{
		{2, 0, 12, 0, 0x6e603d80},
		{4, 1, 12, 1, 0x6ea13d81},
		{8, 3, 12, 3, 0x6ee33d83},
	} {
		if got := cmhs(arrangementOf(c.width), c.d, c.n, c.m); got != c.want {
			t.Errorf("CMHS V%d, V%d, V%d with %d-byte lanes: %#08x, want %#08x", c.d, c.n, c.m, c.width, got, c.want)
		}
	}
}

// TestFrame checks the argument layout against the Go ABI0 offsets that
// go vet's asmdecl expects of the stubs.
func TestFrame(t *testing.T) {
	for _, c := range []struct {
		width       int
		offsets     [2]int
		ret, argLen int
	}{
		{2, [2]int{24, 26}, 32, 40},
		{4, [2]int{24, 28}, 32, 40},
		{8, [2]int{24, 32}, 40, 48},
	} {
		offsets, ret, argLen := frame(24, []param{{"lo", c.width}, {"span", c.width}}, true)
		if [2]int(offsets) != c.offsets || ret != c.ret || argLen != c.argLen {
			t.Errorf("width %d: offsets %v, ret %d, args %d; want %v, %d, %d", c.width, offsets, ret, argLen, c.offsets, c.ret, c.argLen)
		}
	}
	if _, ret, argLen := frame(24, nil, true); ret != 24 || argLen != 32 {
		t.Errorf("no parameters: ret %d, args %d; want 24, 32", ret, argLen)
	}
	// A column tile of 16-bit lanes: no result, and no padding after span.
	if offsets, ret, argLen := frame(64, []param{{"lo", 2}, {"span", 2}}, false); [2]int(offsets) != [2]int{64, 66} || ret != -1 || argLen != 68 {
		t.Errorf("column tile: offsets %v, ret %d, args %d; want [64 66], -1, 68", offsets, ret, argLen)
	}
}
