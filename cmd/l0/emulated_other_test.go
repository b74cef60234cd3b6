//go:build !linux

package main

func faultsEmulated() bool { return false }
