//go:build linux

package conn

import (
	"net"
	"syscall"
	"unsafe"
)

// unreadBytes reports how many bytes the kernel holds for nc, arrived and
// not yet read, and whether it could tell (a TCP or Unix socket, also under
// TLS).
func unreadBytes(nc net.Conn) (n int, ok bool) {
	if tc, isTLS := nc.(interface{ NetConn() net.Conn }); isTLS {
		nc = tc.NetConn()
	}
	sc, isSys := nc.(syscall.Conn)
	if !isSys {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	if err := raw.Control(func(fd uintptr) { n, ok = fdUnread(fd) }); err != nil {
		return 0, false
	}
	return n, ok
}

// fdUnread is unreadBytes for a socket's descriptor: the FIONREAD ioctl,
// TIOCINQ on Linux.
func fdUnread(fd uintptr) (int, bool) {
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		return 0, false
	}
	return int(n), true
}
