package faultproxy

import (
	"net"
	"sync"
)

// link is one proxied connection: the client's socket and the server's.
type link struct {
	proxy          *Proxy
	client, server net.Conn
	wg             sync.WaitGroup

	// silenced is closed while traffic flows, open while the link is
	// silenced (see Proxy.Silence); guarded by the proxy's mu.
	silenced chan struct{}

	mu     sync.Mutex
	budget int64 // bytes server→client before a cut; <0: no cut
	once   sync.Once
	gone   chan struct{} // closed when the link is torn down
}

// setSilenced silences the link or lets it flow; the proxy's mu is held.
func (l *link) setSilenced(on bool) {
	if on == !isClosed(l.silenced) {
		return
	}
	if on {
		l.silenced = make(chan struct{})
	} else {
		close(l.silenced)
	}
}

func (l *link) setBudget(n int64) {
	l.mu.Lock()
	l.budget = n
	l.mu.Unlock()
}

// take returns how many of n bytes may go to the client and whether the
// link must be cut after them.
func (l *link) take(n int) (allowed int, cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.budget < 0 {
		return n, false
	}
	if int64(n) >= l.budget {
		allowed = int(l.budget)
		l.budget = 0
		return allowed, true
	}
	l.budget -= int64(n)
	return n, false
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.gone)
		l.client.Close()
		l.server.Close()
	})
}

// pipe copies src to dst chunk by chunk, honouring stalls, latency and, in the
// server→client direction, the cut budget.
func (l *link) pipe(dst, src net.Conn, toClient bool) {
	defer l.wg.Done()
	defer l.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !l.proxy.wait(l) {
				return
			}
			chunk, cut := buf[:n], false
			if toClient {
				var allowed int
				allowed, cut = l.take(n)
				chunk = chunk[:allowed]
			}
			if len(chunk) > 0 {
				if _, werr := dst.Write(chunk); werr != nil {
					return
				}
			}
			if cut {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
