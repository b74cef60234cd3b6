package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// caches are the data cache sizes in bytes that one core sees, 0 where
// unknown.
type caches struct {
	l1d, l2, l3 int64
}

// The configuration keys that record the cache sizes in a benchmark file,
// as lines of the Go benchmark data format ("cache-l1d: 48K"), which
// benchstat passes through. -caches prints them.
const (
	keyL1d = "cache-l1d"
	keyL2  = "cache-l2"
	keyL3  = "cache-l3"
)

func (c *caches) fields() []struct {
	key  string
	size *int64
} {
	return []struct {
		key  string
		size *int64
	}{{keyL1d, &c.l1d}, {keyL2, &c.l2}, {keyL3, &c.l3}}
}

func (c caches) known() bool { return c.l1d > 0 || c.l2 > 0 || c.l3 > 0 }

// write prints the known sizes as configuration lines.
func (c caches) write(w io.Writer) error {
	for _, f := range c.fields() {
		if *f.size > 0 {
			if _, err := fmt.Fprintf(w, "%s: %s\n", f.key, formatSize(*f.size)); err != nil {
				return err
			}
		}
	}
	return nil
}

// fromConfig reads the sizes recorded in a benchmark file's configuration.
func fromConfig(config map[string]string) (caches, error) {
	var c caches
	for _, f := range c.fields() {
		v, ok := config[f.key]
		if !ok {
			continue
		}
		n, err := parseSize(v)
		if err != nil {
			return caches{}, fmt.Errorf("%s: %v", f.key, err)
		}
		*f.size = n
	}
	return c, nil
}

// over returns c with every size that o knows replaced by o's.
func (c caches) over(o caches) caches {
	cf, of := c.fields(), o.fields()
	for i := range cf {
		if *of[i].size > 0 {
			*cf[i].size = *of[i].size
		}
	}
	return c
}

// sysfsCaches reads the data and unified caches of cpu0 from Linux sysfs
// (root is "/" but for tests). Machines without it (other systems, some
// virtual machines) give no sizes and no error.
func sysfsCaches(root string) caches {
	var c caches
	dirs, _ := filepath.Glob(filepath.Join(root, "sys/devices/system/cpu/cpu0/cache/index*"))
	for _, dir := range dirs {
		read := func(name string) string {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			return strings.TrimSpace(string(b))
		}
		if read("type") == "Instruction" {
			continue
		}
		n, err := parseSize(read("size"))
		if err != nil {
			continue
		}
		switch read("level") {
		case "1":
			c.l1d = n
		case "2":
			c.l2 = n
		case "3":
			c.l3 = n
		}
	}
	return c
}

// sizeFlag is a -l1d, -l2 or -l3 flag: a size as parseSize reads it.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil || *f.n == 0 {
		return ""
	}
	return formatSize(*f.n)
}

func (f sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}
