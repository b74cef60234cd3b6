//go:build !race

package kernel

// raceEnabled: the race detector is on (see race_test.go).
const raceEnabled = false
