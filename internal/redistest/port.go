package redistest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

// Ports are picked below the kernel's ephemeral range (32768 and up on
// Linux) rather than by listening on port 0. A port from the ephemeral range
// can be taken at any moment as the source port of an outgoing connection
// (the tests open thousands), and then a server restarted on its old port
// cannot bind it again. Packages run in parallel, so a port can still be taken
// between FreePort and the server's bind: starting a node checks that the
// server answering on its port is its own, and retries with fresh ports when
// it is not.
const (
	minPort = 11000
	maxPort = 32000
)

// handedOut holds every port FreePort returned in this process. A port is
// never returned twice: nodes starting at the same moment (a cluster's start
// all of them at once) cannot be given the same port or bus port, and a port
// given to a test as "a port nothing listens on" stays that way as far as the
// harness is concerned.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: make(map[int]bool)}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now
// and that no earlier call in this process returned.
func FreePort() (int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		if port := minPort + rand.IntN(maxPort-minPort); !handedOut.ports[port] && canListen(port) {
			handedOut.ports[port] = true
			return port, nil
		}
	}
	// The range is crowded: fall back on a port the kernel picks.
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("redistest: no free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("redistest: no free port: every one tried was handed out already")
}

func canListen(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
