package window

import "golang.org/x/sys/unix"

// populate asks for a mapping's pages at once.
const populate = unix.MAP_POPULATE
