//go:build !(amd64 || arm64) || !gc || purego

package kernel

// detectLevels: without assembly for this platform or build, only the
// generic kernels run.
func detectLevels() []Level { return []Level{Generic} }

func implFor(Level) *impl { return &genericImpl }
