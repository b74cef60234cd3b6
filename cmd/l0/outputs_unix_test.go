//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOutputModes: -save and -sparsity create a file of mode 0666 less the
// umask, as os.Create does (they were 0644 under umask 077), keep the mode
// of a file they write over (a 0600 file became 0644), and write through
// a dangling symbolic link to the file it names, creating it (the link was
// replaced by the file), as the shell's > does.
func TestOutputModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := writeFile(t, dir, "a.npy", smallNPY(4, 0))
	mode := func(path string) os.FileMode {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return info.Mode().Perm()
	}
	for _, c := range []struct {
		umask int
		want  os.FileMode
	}{{0o077, 0o600}, {0o022, 0o644}, {0o002, 0o664}, {0o027, 0o640}} {
		old := syscall.Umask(c.umask)
		save, sparsity := filepath.Join(dir, "new.l0"), filepath.Join(dir, "new.safetensors")
		os.Remove(save)
		os.Remove(sparsity)
		_, errs, status := runL0("-save", save, "-sparsity", sparsity, input)
		syscall.Umask(old)
		if status != 0 {
			t.Fatal(errs)
		}
		if mode(save) != c.want || mode(sparsity) != c.want {
			t.Errorf("umask %#o: modes %v and %v, want %v", c.umask, mode(save), mode(sparsity), c.want)
		}
	}

	// An existing file keeps its mode, whatever the umask.
	for _, m := range []os.FileMode{0o600, 0o640, 0o444, 0o755} {
		save := filepath.Join(dir, "kept.l0")
		if err := os.WriteFile(save, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(save, m); err != nil {
			t.Fatal(err)
		}
		if _, errs, status := runL0("-save", save, input); status != 0 {
			t.Fatal(errs)
		}
		if mode(save) != m {
			t.Errorf("a %v file became %v", m, mode(save))
		}
		os.Chmod(save, 0o600)
		os.Remove(save)
	}

	// A dangling link is written through, relative or absolute, through a
	// chain of links; the link stays a link.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "want.l0")
	if _, errs, status := runL0("-save", want, input); status != 0 {
		t.Fatal(errs)
	}
	for i, target := range []string{"sub/state.l0", filepath.Join(sub, "abs.l0"), "chain.l0"} {
		link := filepath.Join(dir, "link"+string(rune('0'+i))+".l0")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if target == "chain.l0" {
			if err := os.Symlink("sub/../sub/chained.l0", filepath.Join(dir, target)); err != nil {
				t.Fatal(err)
			}
		}
		if _, errs, status := runL0("-save", link, input); status != 0 {
			t.Fatalf("-save %s -> %s: %s", link, target, errs)
		}
		if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v", link, err)
		}
		if got := readAll(t, link); !bytes.Equal(got, readAll(t, want)) {
			t.Errorf("%s -> %s: the state is not there", link, target)
		}
	}
	if _, err := os.Stat(filepath.Join(sub, "chained.l0")); err != nil {
		t.Errorf("the end of the chain: %v", err)
	}
	// A loop of links is an error of -save, after the report.
	loop := filepath.Join(dir, "loop.l0")
	if err := os.Symlink("loop.l0", loop); err != nil {
		t.Fatal(err)
	}
	if _, errs, status := runL0("-save", loop, input); status != 1 || !bytes.Contains([]byte(errs), []byte("-save "+loop+": ")) {
		t.Errorf("a loop: status %d, stderr %q", status, errs)
	}
}
