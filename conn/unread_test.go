//go:build linux

package conn

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// starvedReads is a TCP connection whose reader can be starved: while held,
// a read waits until bytes have arrived and then, leaving them in the
// kernel, until released, as a reader goroutine that a loaded machine does
// not run would.
type starvedReads struct {
	*net.TCPConn
	mu      sync.Mutex
	release chan struct{} // while not nil, reads wait for it to close
}

func (s *starvedReads) hold() {
	s.mu.Lock()
	s.release = make(chan struct{})
	s.mu.Unlock()
}

func (s *starvedReads) unhold() {
	s.mu.Lock()
	close(s.release)
	s.release = nil
	s.mu.Unlock()
}

func (s *starvedReads) Read(p []byte) (int, error) {
	raw, err := s.SyscallConn()
	if err != nil {
		return 0, err
	}
	// Wait for bytes without taking them, then for the release.
	if err := raw.Read(func(fd uintptr) bool { n, _ := fdUnread(fd); return n > 0 }); err != nil {
		return 0, err
	}
	s.mu.Lock()
	release := s.release
	s.mu.Unlock()
	if release != nil {
		<-release
	}
	return s.TCPConn.Read(p)
}

// TestStarvedReaderIsNotSilent: a reply arrives while the Conn's reader
// does not run. The liveness check sees nothing read, probes, and the
// server answers the probe; but the reply waits in the kernel, so the link
// is not silent: the Conn stays open and the call gets its reply once the
// reader runs. Before, the Conn was closed as silent and the call failed
// with ErrSilent.
func TestStarvedReaderIsNotSilent(t *testing.T) {
	addr := redistest.Server().Addr
	ctx := testContext(t)
	nc, err := new(net.Dialer).DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	sock := &starvedReads{TCPConn: nc.(*net.TCPConn)}
	opts := &Options{SilenceTimeout: 50 * time.Millisecond, IdlePing: -1}
	c, err := newConn(ctx, sock, addr, opts)
	require.NoError(t, err)
	defer c.Close()
	var probes atomic.Int32
	probe := dialProbe(addr, nil)
	c.startLiveness(opts, func(ctx context.Context) probeResult {
		res := probe(ctx)
		probes.Add(1)
		return res
	})
	_, err = c.Do(ctx, "SET", "conn:starved", "v")
	require.NoError(t, err)

	sock.hold()
	call, cancel := context.WithCancel(ctx) // the reader goroutine reads its reply
	defer cancel()
	got := make(chan error, 1)
	go func() {
		v, err := c.Do(call, "GET", "conn:starved")
		if s, _ := v.Text(); err == nil && s != "v" {
			err = assert.AnError
		}
		got <- err
	}()
	// Two probes answered (the first one's grace has passed with the
	// reply still unread), or the Conn closed.
	require.Eventually(t, func() bool { return probes.Load() >= 2 || c.Err() != nil }, 10*time.Second, time.Millisecond)
	require.NoError(t, c.Err(), "the Conn stays open")
	n, ok := unreadBytes(c.nc)
	assert.True(t, ok)
	assert.Positive(t, n, "the reply waits in the kernel")

	sock.unhold()
	require.NoError(t, <-got)
	assert.NoError(t, c.Err())
}

// TestUnreadBytes: the kernel's count of bytes arrived and not read, on a
// TCP socket; a net.Pipe has none to tell, and the silence check then
// decides as before.
func TestUnreadBytes(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	_, ok := unreadBytes(client)
	assert.False(t, ok, "a pipe has no kernel buffer")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	peer := <-accepted
	require.NotNil(t, peer)
	defer peer.Close()
	n, ok := unreadBytes(nc)
	require.True(t, ok)
	assert.Zero(t, n)
	_, err = peer.Write([]byte("+OK\r\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { n, _ := unreadBytes(nc); return n == 5 }, 5*time.Second, time.Millisecond)
	buf := make([]byte, 8)
	_, err = nc.Read(buf)
	require.NoError(t, err)
	n, _ = unreadBytes(nc)
	assert.Zero(t, n, "read: nothing waits")
}
