package window

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// faultsEmulated reports whether the tests run under qemu-user, which
// reports the machine it emulates (i686 for GOARCH=386, where a 386 binary
// on an amd64 kernel sees x86_64) and does not deliver the SIGBUS of a
// vanished mapped page precisely enough for the runtime to turn it into a
// panic ("unexpected signal during runtime execution").
func faultsEmulated() bool {
	var u unix.Utsname
	if runtime.GOARCH != "386" || unix.Uname(&u) != nil {
		return false
	}
	return unix.ByteSliceToString(u.Machine[:]) != "x86_64"
}
