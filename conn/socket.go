package conn

import "net"

// plainSocket reports whether nc is a TCP or Unix socket of the standard
// library's. On one, a Conn writes a vector of buffers in one system call
// (writev: big arguments are held out of the write buffer, see
// appendCommand), and a read deadline cuts a caller's read short without
// losing a byte (see readOwnWithin). A TLS connection, or a net.Conn of the
// caller's making, may do neither: it gets one write buffer, and its callers
// whose context can end wait for the reader goroutine.
func plainSocket(nc net.Conn) bool {
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		return true
	}
	return false
}
