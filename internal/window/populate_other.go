//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package window

const populate = 0
