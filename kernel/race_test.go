//go:build race

package kernel

// raceEnabled: the race detector is on, and sync.Pool drops a random
// quarter of what it is given, so allocation counts are not steady.
const raceEnabled = true
