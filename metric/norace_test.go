//go:build !race

package metric

// raceEnabled: the race detector is on (see race_test.go).
const raceEnabled = false
