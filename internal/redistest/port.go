package redistest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports are picked below the kernel's ephemeral range (32768 and up on
// Linux) rather than by listening on port 0. A port from the ephemeral range
// can be taken at any moment as the source port of an outgoing connection
// (the tests open thousands), and then a server restarted on its old port
// cannot bind it again. Packages run in parallel, so a port can still be taken
// between FreePort and the server's bind: starting a node retries with fresh
// ports when that happens.
const (
	minPort = 11000
	maxPort = 32000
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func FreePort() (int, error) {
	for range 100 {
		port := minPort + rand.IntN(maxPort-minPort)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	// The range is crowded: fall back on a port the kernel picks.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: no free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
