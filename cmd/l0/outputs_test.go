package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputIsInput: an output (-save, -sparsity) that is an input, by
// name, through a symbolic or a hard link, is refused before anything is
// read or written, exit status 2, naming both; so is an existing file an
// output would replace that is not of the kind l0 writes there (a shell
// pattern, l0 -total -sparsity shard-*.npy, put shard-0.npy after
// -sparsity: it was replaced by a 136-byte sparsity file, and the total
// left it out). -save over an input state is the one exception: the
// accumulation l0 -total -save acc.l0 acc.l0 new.npy, written after
// everything is read.
func TestOutputIsInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeFile(t, dir, "shard-0.npy", smallNPY(10, 0))
	b := writeFile(t, dir, "shard-1.npy", smallNPY(6, 1))
	c := writeFile(t, dir, "shard-2.npy", smallNPY(3, 2))
	original, _ := os.ReadFile(a)
	acc := filepath.Join(dir, "acc.l0")
	if _, errs, status := runL0("-save", acc, a); status != 0 {
		t.Fatal(errs)
	}
	accState, _ := os.ReadFile(acc)
	link := filepath.Join(dir, "link.npy")
	hard := filepath.Join(dir, "hard.npy")
	if err := os.Symlink(a, link); err != nil {
		t.Skip(err)
	}
	if err := os.Link(a, hard); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-total", "-sparsity", a, b, c}, []string{"l0: -sparsity " + a + ": the file exists and is a .npy array, not a sparsity file"}},
		{[]string{"-total", "-save", a, b, c}, []string{"l0: -save " + a + ": the file exists and is a .npy array, not an l0 state"}},
		{[]string{"-save", a, a}, []string{"l0: -save " + a + " is the input " + a}},
		{[]string{"-sparsity", a, b, a}, []string{"l0: -sparsity " + a + " is the input " + a}},
		{[]string{"-save", link, b, a}, []string{"l0: -save " + link + " is the input " + a}},
		{[]string{"-save", filepath.Join(dir, "x.l0"), "-sparsity", hard, a}, []string{"l0: -sparsity " + hard + " is the input " + a}},
		{[]string{"-sparsity", acc, acc}, []string{"l0: -sparsity " + acc + " is the input " + acc}},
		{[]string{"-save", acc, "-sparsity", acc, b}, []string{"l0: -save and -sparsity name the same file"}},
	} {
		out, errs, status := runL0(c.args...)
		if status != 2 || out != "" {
			t.Errorf("%q: status %d, stdout %q, stderr %q", c.args, status, out, errs)
		}
		for _, want := range c.want {
			if !strings.Contains(errs, want) {
				t.Errorf("%q: stderr %q, want %q", c.args, errs, want)
			}
		}
		if now, _ := os.ReadFile(a); !bytes.Equal(now, original) {
			t.Fatalf("%q: the input %s was written over", c.args, a)
		}
		if now, _ := os.ReadFile(acc); !bytes.Equal(now, accState) {
			t.Fatalf("%q: the state %s was written over", c.args, acc)
		}
	}
	// A -save and -sparsity that name one file through a link.
	sp := filepath.Join(dir, "sp.safetensors")
	spLink := filepath.Join(dir, "sp-link.safetensors")
	if err := os.Symlink(sp, spLink); err != nil {
		t.Fatal(err)
	}
	if _, errs, status := runL0("-save", sp, "-sparsity", spLink, b); status != 2 || !strings.Contains(errs, "-save "+sp+" and -sparsity "+spLink+" are the same file") {
		t.Errorf("-save and -sparsity through a link: status %d, stderr %q", status, errs)
	}
	// Or by two spellings of a path, neither of which exists yet.
	fresh := filepath.Join(dir, "fresh.l0")
	other := dir + "/./../" + filepath.Base(dir) + "/fresh.l0" // not cleaned
	if _, errs, status := runL0("-save", fresh, "-sparsity", other, b); status != 2 || !strings.Contains(errs, "are the same file") {
		t.Errorf("-save %s -sparsity %s: status %d, stderr %q", fresh, other, status, errs)
	}

	// The accumulation: the state read, then written with the new shard.
	want := filepath.Join(dir, "want.l0")
	if _, errs, status := runL0("-total", "-save", want, a, b); status != 0 {
		t.Fatal(errs)
	}
	if _, errs, status := runL0("-total", "-save", acc, acc, b); status != 0 || errs != "" {
		t.Fatalf("accumulating: status %d, stderr %q", status, errs)
	}
	if got, want := readAll(t, acc), readAll(t, want); !bytes.Equal(got, want) {
		t.Errorf("the accumulated state differs from the total's")
	}
	// Outputs l0 wrote before are written over, as any run writes them.
	for range 2 {
		if _, errs, status := runL0("-save", acc, "-sparsity", sp, b); status != 0 {
			t.Fatalf("writing over l0's own outputs: %s", errs)
		}
	}
	// So are empty files, devices and named pipes' kin.
	empty := writeFile(t, dir, "empty.l0", nil)
	if _, errs, status := runL0("-save", empty, "-sparsity", os.DevNull, b); status != 0 {
		t.Errorf("an empty -save, -sparsity %s: %s", os.DevNull, errs)
	}
}

// TestStreamTwice: a path that is not a regular file given twice, by one
// name or two (/dev/fd/N and /proc/self/fd/N), is refused before anything
// is read: two readers of one pipe each read bytes from under the other,
// and both errors were wrong and changed from run to run. A regular file
// given twice is read twice, as always.
func TestStreamTwice(t *testing.T) {
	t.Parallel()
	data := smallNPY(3, 1)
	p := pipeOf(t, data)
	if p == "" {
		t.Skip("no pipes of /dev/fd here")
	}
	for _, args := range [][]string{{"-total", p, p}, {p, p}, {p, strings.Replace(p, "/dev/fd/", "/proc/self/fd/", 1)}} {
		out, errs, status := runL0(args...)
		if status != 2 || out != "" || !strings.HasPrefix(errs, "l0: "+p+" is given twice") && !strings.Contains(errs, "is given twice (as "+p+")") || !strings.Contains(errs, "a stream can be read once") {
			t.Errorf("%q: status %d, stdout %q, stderr %q", args, status, out, errs)
		}
	}
	// The pipe was not read: it still holds the array.
	out, errs, status := runL0("-json", p)
	if status != 0 || len(decodeLines(t, out)) != 1 {
		t.Errorf("the pipe after: status %d, stderr %q", status, errs)
	}
	f := writeFile(t, t.TempDir(), "a.npy", data)
	if out, errs, status := runL0("-json", f, f); status != 0 || len(decodeLines(t, out)) != 2 {
		t.Errorf("a regular file twice: status %d, stderr %q", status, errs)
	}
}
