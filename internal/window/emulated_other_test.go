//go:build !linux

package window

func faultsEmulated() bool { return false }
