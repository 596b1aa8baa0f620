// Package faultproxy is a loopback TCP proxy that sits between a client and a
// real server and injects network faults on command from a test.
//
// # Faults
//
//   - SetLatency delays every chunk forwarded in either direction.
//   - Stall black-holes every connection: bytes stop flowing both ways, but
//     the sockets stay open, as with a partitioned peer. Unstall resumes.
//   - Silence black-holes the connections open at that moment only, while
//     new ones pass: a NAT or load balancer that forgot its flows, or a node
//     replaced behind the same address. Unsilence resumes them.
//   - CutAfter closes each connection once n more bytes have gone from the
//     server to the client, so the client sees a frame cut in the middle.
//   - CutAll closes every current connection at once.
//   - Refuse closes the listener, so new connections are refused by the
//     kernel; Accept opens it again on the same port.
//
// The proxy only listens on 127.0.0.1 and only dials the target it was given.
//
// # Example
//
//	p, err := faultproxy.Start("127.0.0.1:6379")
//	if err != nil { ... }
//	defer p.Close()
//	client := dial(p.Addr())
//	p.Stall()   // calls through the proxy now time out
//	p.Unstall() // and flow again
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Proxy forwards loopback connections to one target and injects faults.
type Proxy struct {
	target string
	addr   string

	mu       sync.Mutex
	ln       net.Listener
	latency  time.Duration
	stalled  chan struct{} // closed while traffic flows; open while stalled
	cutAfter int64         // bytes server→client before cutting; <0: never
	links    map[*link]struct{}
	closed   bool

	done chan struct{} // closed by Close
	wg   sync.WaitGroup
}

// Start listens on a free loopback port and forwards every connection to target.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	flowing := make(chan struct{})
	close(flowing)
	p := &Proxy{
		target:   target,
		addr:     ln.Addr().String(),
		ln:       ln,
		stalled:  flowing,
		cutAfter: -1,
		links:    make(map[*link]struct{}),
		done:     make(chan struct{}),
	}
	p.wg.Add(1)
	go p.acceptLoop(ln)
	return p, nil
}

// Addr is the address clients dial instead of the target.
func (p *Proxy) Addr() string { return p.addr }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// SetLatency delays every forwarded chunk by d; zero removes the delay.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// Stall stops all traffic in both directions until Unstall, keeping the
// connections open (a black hole).
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stalled:
		p.stalled = make(chan struct{})
	default: // already stalled
	}
}

// Unstall lets traffic flow again.
func (p *Proxy) Unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stalled:
	default:
		close(p.stalled)
	}
}

// Silence stops all traffic, both ways, on every connection open now,
// keeping them open; connections made later flow as usual. It returns how
// many it silenced.
func (p *Proxy) Silence() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.setSilenced(true)
	}
	return len(p.links)
}

// Unsilence lets traffic flow again on every silenced connection.
func (p *Proxy) Unsilence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.setSilenced(false)
	}
}

// CutAfter makes every connection, current and new, close after n more bytes
// have been forwarded from the server to the client. A negative n disables it.
func (p *Proxy) CutAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutAfter = n
	for l := range p.links {
		l.setBudget(n)
	}
}

// CutAll closes every current connection.
func (p *Proxy) CutAll() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

// Conns reports how many connections are being forwarded now.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Refuse closes the listener so that new connections are refused; current
// connections are untouched. Accept undoes it.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

// Accept listens again on the proxy's address after Refuse.
func (p *Proxy) Accept() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("faultproxy: closed")
	}
	if p.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
	}
	p.ln = ln
	p.wg.Add(1)
	go p.acceptLoop(ln)
	return nil
}

// Close stops listening, closes every connection and waits for all of the
// proxy's goroutines. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	close(p.done)
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	p.CutAll()
	p.wg.Wait()
	return nil
}

func (p *Proxy) acceptLoop(ln net.Listener) {
	defer p.wg.Done()
	for {
		client, err := ln.Accept()
		if err != nil {
			return // closed by Refuse or Close
		}
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		flowing := make(chan struct{})
		close(flowing)
		l := &link{proxy: p, client: client, server: server, gone: make(chan struct{}), silenced: flowing}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			continue
		}
		l.budget = p.cutAfter
		p.links[l] = struct{}{}
		p.mu.Unlock()
		l.wg.Add(2)
		p.wg.Add(1)
		go l.pipe(server, client, false)
		go l.pipe(client, server, true)
		go func() {
			defer p.wg.Done()
			l.wg.Wait()
			l.close()
			p.mu.Lock()
			delete(p.links, l)
			p.mu.Unlock()
		}()
	}
}

// wait blocks while the proxy is stalled or the link silenced, then sleeps
// for the latency. It returns false when the proxy or the link closed
// meanwhile.
func (p *Proxy) wait(l *link) bool {
	for {
		p.mu.Lock()
		stalled, latency := p.stalled, p.latency
		silenced := l.silenced
		p.mu.Unlock()
		select {
		case <-stalled:
		case <-p.done:
			return false
		case <-l.gone:
			return false
		}
		select {
		case <-silenced:
		case <-p.done:
			return false
		case <-l.gone:
			return false
		}
		p.mu.Lock()
		flowing := isClosed(p.stalled) && isClosed(l.silenced)
		p.mu.Unlock()
		if !flowing { // stalled or silenced again meanwhile
			continue
		}
		return p.sleep(l, latency)
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// sleep waits for the latency, or returns false when the proxy or the link
// closed meanwhile.
func (p *Proxy) sleep(l *link, latency time.Duration) bool {
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.done:
			return false
		case <-l.gone:
			return false
		}
	}
	return true
}
