package fakeserver

import (
	"errors"
	"net"
	"sync"
)

// TB is the part of testing.TB the server reports through. A *testing.T
// fits; so does anything that forwards failures elsewhere (a channel, a log).
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Handler serves one command of a free-form connection. cmd holds the
// command name and its arguments as the client sent them. A Handler that
// waits on anything of its own must also give up once c.Done() is closed,
// or Server.Close waits for it forever.
type Handler func(c *Conn, cmd []string)

// Server hands each connection it serves the next queued script, or the
// handler once the scripts are used up. It reports script mismatches to its
// TB. Close stops it and waits for every goroutine it started.
type Server struct {
	t        TB
	listener net.Listener // nil for a server that only serves net.Pipe ends

	mu       sync.Mutex
	scripts  [][]Step
	handler  Handler
	conns    map[*Conn]struct{}
	accepted int
	closed   bool

	closing   chan struct{} // closed when Close starts
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// New returns a server that listens nowhere: give it connections with Serve
// or Pipe, for tests that run inside a testing/synctest bubble. The server is
// closed when the test ends.
func New(t TB) *Server {
	t.Helper()
	s := &Server{
		t:       t,
		conns:   make(map[*Conn]struct{}),
		closing: make(chan struct{}),
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Start returns a server listening on a free loopback port (see Addr). It is
// closed when the test ends.
func Start(t TB) *Server {
	t.Helper()
	s := New(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Errorf("fakeserver: listen: %v", err)
		return s
	}
	s.listener = l
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// Addr is the loopback address Start listens on ("" for a server from New).
func (s *Server) Addr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// Script queues steps for the next connection that has none yet; scripts are
// handed out in the order they were queued. It returns s for chaining.
func (s *Server) Script(steps ...Step) *Server {
	s.mu.Lock()
	s.scripts = append(s.scripts, steps)
	s.mu.Unlock()
	return s
}

// Handle serves every connection that finds no queued script with h, one
// command at a time. It returns s for chaining.
func (s *Server) Handle(h Handler) *Server {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
	return s
}

// Accepted is how many connections the server has been given so far.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Pipe serves the server end of a new net.Pipe and returns the client end.
func (s *Server) Pipe() net.Conn {
	client, server := net.Pipe()
	s.Serve(server)
	return client
}

// Serve serves nc on a goroutine of the server's own, with the next queued
// script or the handler. It returns at once; Close closes nc and waits.
// A connection given to a closed server is closed at once.
func (s *Server) Serve(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	s.accepted++
	c := newConn(s, nc, s.accepted)
	var script []Step
	if len(s.scripts) > 0 {
		script = s.scripts[0]
		s.scripts = s.scripts[1:]
	}
	handler := s.handler
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()

	go func() {
		defer s.wg.Done()
		c.readLoop()
	}()
	go func() {
		defer s.wg.Done()
		defer s.forget(c)
		c.serve(script, handler)
	}()
}

func (s *Server) forget(c *Conn) {
	_ = c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.t.Errorf("fakeserver: accept: %v", err)
			}
			return
		}
		s.Serve(nc)
	}
}

// Close stops listening, closes every connection, releases every Stall and
// waits for the server's goroutines to exit. Every call after the first
// returns nil at once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		if s.listener != nil {
			_ = s.listener.Close()
		}
		s.mu.Lock()
		s.closed = true
		conns := make([]*Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		s.wg.Wait()
	})
	return nil
}
