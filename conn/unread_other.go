//go:build !linux

package conn

import "net"

// unreadBytes reports how many bytes the kernel holds for nc, arrived and
// not yet read, and whether it could tell: here it cannot.
func unreadBytes(net.Conn) (int, bool) { return 0, false }
