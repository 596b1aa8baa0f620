package faultproxy

import (
	"bufio"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer answers every line with the same line, and stops with the test.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func startProxy(t *testing.T) *Proxy {
	t.Helper()
	p, err := Start(echoServer(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, line string) (string, error) {
	t.Helper()
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	got, err := r.ReadString('\n')
	return got, err
}

func TestForwards(t *testing.T) {
	p := startProxy(t)
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	got, err := roundTrip(t, c, bufio.NewReader(c), "hello")
	require.NoError(t, err)
	require.Equal(t, "hello\n", got)
	require.Equal(t, 1, p.Conns())
}

func TestStallBlackHolesUntilUnstall(t *testing.T) {
	p := startProxy(t)
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)

	p.Stall()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	_, err = roundTrip(t, c, r, "lost?")
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "a stalled proxy must not answer: %v", err)

	p.Unstall()
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	got, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "lost?\n", got, "bytes held during the stall arrive afterwards")
}

func TestLatencyDelaysEachChunk(t *testing.T) {
	p := startProxy(t)
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	p.SetLatency(30 * time.Millisecond)
	start := time.Now()
	got, err := roundTrip(t, c, bufio.NewReader(c), "slow")
	require.NoError(t, err)
	require.Equal(t, "slow\n", got)
	// Two chunks (there and back), each delayed: the round trip cannot be quicker.
	require.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond)
}

func TestCutAfterCutsMidFrame(t *testing.T) {
	p := startProxy(t)
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	p.CutAfter(3)
	_, err = c.Write([]byte("abcdefgh\n"))
	require.NoError(t, err)
	got, err := io.ReadAll(c)
	require.NoError(t, err, "the cut shows as a clean close after the allowed bytes")
	require.Equal(t, "abc", string(got))
}

func TestCutAllClosesConnections(t *testing.T) {
	p := startProxy(t)
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	_, err = roundTrip(t, c, r, "x")
	require.NoError(t, err)
	p.CutAll()
	_, err = r.ReadString('\n')
	require.ErrorIs(t, err, io.EOF)
	require.Eventually(t, func() bool { return p.Conns() == 0 }, 5*time.Second, 5*time.Millisecond)
}

func TestRefuseThenAccept(t *testing.T) {
	p := startProxy(t)
	p.Refuse()
	_, err := net.Dial("tcp", p.Addr())
	require.Error(t, err, "a refusing proxy has no listener")

	require.NoError(t, p.Accept())
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	got, err := roundTrip(t, c, bufio.NewReader(c), "back")
	require.NoError(t, err)
	require.Equal(t, "back\n", got)
}

func TestCloseIsIdempotentAndConcurrent(t *testing.T) {
	p, err := Start(echoServer(t))
	require.NoError(t, err)
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, p.Close())
		}()
	}
	wg.Wait()
	require.Error(t, p.Accept())
}

// TestSilenceOnlyOpenLinks: Silence black-holes the connections open at
// that moment, both ways, while a connection made afterwards flows; after
// Unsilence the held bytes go through.
func TestSilenceOnlyOpenLinks(t *testing.T) {
	p := startProxy(t)
	old, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer old.Close()
	oldR := bufio.NewReader(old)
	_, err = roundTrip(t, old, oldR, "before")
	require.NoError(t, err)

	require.Equal(t, 1, p.Silence())
	old.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = roundTrip(t, old, oldR, "held")
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the silenced link still flows")

	fresh, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer fresh.Close()
	got, err := roundTrip(t, fresh, bufio.NewReader(fresh), "new link")
	require.NoError(t, err)
	require.Equal(t, "new link\n", got)

	p.Unsilence()
	old.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err = oldR.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "held\n", got)
}
