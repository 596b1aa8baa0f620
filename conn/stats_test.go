package conn

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// quietOptions turn the idle PING off, so that a test's figures hold only
// its own commands.
func quietOptions() *Options { return &Options{IdlePing: -1} }

// TestClientStats: a Client's counters are exact on a real server: N
// commands, their bytes both ways, an error reply, a pipeline, a context
// that ends before and while waiting, and a CLIENT KILL's redial, after
// which the counts carry on across Conns.
func TestClientStats(t *testing.T) {
	server := redistest.Server()
	ctx := testContext(t)
	c, err := NewClient(ctx, server.Addr, quietOptions())
	require.NoError(t, err)
	defer c.Close()
	k, list := clientKey(t, "k"), clientKey(t, "list")

	s0 := c.Stats()
	assert.Equal(t, uint64(1), s0.Dials)
	assert.NotZero(t, s0.BytesWritten, "the handshake is counted")
	assert.NotZero(t, s0.BytesRead, "the handshake is counted")

	const n = 10
	for range n {
		_, err := c.Do(ctx, "SET", k, "v")
		require.NoError(t, err)
	}
	s1 := c.Stats()
	assert.Equal(t, uint64(n), s1.Commands-s0.Commands)
	assert.Zero(t, s1.Errors-s0.Errors)
	sent := len(resp.AppendCommand(nil, "SET", k, "v"))
	assert.Equal(t, uint64(n*sent), s1.BytesWritten-s0.BytesWritten)
	assert.Equal(t, uint64(n*len("+OK\r\n")), s1.BytesRead-s0.BytesRead)
	assert.Zero(t, s1.InFlight)
	assert.Zero(t, s1.WriteBufferBytes)

	_, err = c.Do(ctx, "LPUSH", k, "x") // WRONGTYPE
	require.Error(t, err)
	vals, err := c.DoMulti(ctx, []string{"GET", k}, []string{"INCR", k}, []string{"GET", k})
	require.NoError(t, err)
	require.Len(t, vals, 3)
	s2 := c.Stats()
	assert.Equal(t, uint64(4), s2.Commands-s1.Commands)
	assert.Equal(t, uint64(2), s2.Errors-s1.Errors)

	ended, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Do(ended, "GET", k)
	require.ErrorIs(t, err, context.Canceled)
	s3 := c.Stats()
	assert.Equal(t, uint64(1), s3.Timeouts-s2.Timeouts)
	assert.Equal(t, s2.Commands, s3.Commands, "a call that never began has no reply")

	// A BLPOP that its context ends while it waits, on a dedicated Conn.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = c.Do(short, "BLPOP", list, "0")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s4 := c.Stats()
	assert.Equal(t, uint64(1), s4.Timeouts-s3.Timeouts)
	assert.Equal(t, uint64(2), s4.Dials, "the BLPOP's dedicated Conn")
	assert.Equal(t, s3.Commands, s4.Commands)

	old := c.current.Load()
	_, err = server.Do(ctx, "CLIENT", "KILL", "ID", clientID(t, old))
	require.NoError(t, err)
	<-old.Done()
	require.Eventually(t, func() bool { return c.Stats().Redials == 1 }, 20*time.Second, time.Millisecond)
	_, err = c.Do(ctx, "GET", k)
	require.NoError(t, err)
	s5 := c.Stats()
	assert.Equal(t, uint64(1), s5.Redials)
	assert.Equal(t, uint64(3), s5.Dials)
	assert.Equal(t, s4.Commands+2, s5.Commands, "the killed Conn's counts are kept (its CLIENT ID), and the GET")
	assert.GreaterOrEqual(t, s5.Closed, uint64(1))
	assert.Greater(t, s5.BytesWritten, s4.BytesWritten)

	require.NoError(t, c.Close())
	final := c.Stats()
	assert.Equal(t, final.Dials, final.Closed, "every Conn closed is counted once")
	assert.Equal(t, s5.Commands, final.Commands)
}

// TestClientStatsDedicated: the dedicated gauges count a Conn on loan to a
// blocking command, then idle in the pool.
func TestClientStatsDedicated(t *testing.T) {
	ctx := testContext(t)
	c, err := NewClient(ctx, redistest.Server().Addr, quietOptions())
	require.NoError(t, err)
	defer c.Close()
	list := clientKey(t, "list")

	got := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "BLPOP", list, "0")
		got <- err
	}()
	require.Eventually(t, func() bool { return c.Stats().DedicatedInUse == 1 }, 20*time.Second, time.Millisecond)
	assert.Equal(t, 1, c.Stats().DedicatedOpen)
	_, err = c.Do(ctx, "RPUSH", list, "x")
	require.NoError(t, err)
	require.NoError(t, <-got)
	s := c.Stats()
	assert.Zero(t, s.DedicatedInUse)
	assert.Equal(t, 1, s.DedicatedOpen, "idle in the pool")
	assert.Equal(t, uint64(2), s.Commands, "the BLPOP's reply and the RPUSH's")
}

// TestConnStats: a Conn's own counters and its in-flight gauge while a
// reply is owed.
func TestConnStats(t *testing.T) {
	c := dialTest(t, quietOptions())
	ctx := testContext(t)
	list := clientKey(t, "list")
	s0 := c.Stats()
	got := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "BLPOP", list, "0")
		got <- err
	}()
	require.Eventually(t, func() bool { return c.Stats().InFlight == 1 }, 20*time.Second, time.Millisecond)
	_, err := redistest.Server().Do(ctx, "RPUSH", list, "x")
	require.NoError(t, err)
	require.NoError(t, <-got)
	s1 := c.Stats()
	assert.Zero(t, s1.InFlight)
	assert.Equal(t, uint64(1), s1.Commands-s0.Commands)
	assert.Equal(t, uint64(len(resp.AppendCommand(nil, "BLPOP", list, "0"))), s1.BytesWritten-s0.BytesWritten)
	assert.Zero(t, s1.Dials, "a Conn's Stats hold no Client figures")
}

// TestClientStatsPoolWaitTimeout: a call whose context ends while it waits
// for a dedicated Conn, all of them on loan, counts as a timeout.
func TestClientStatsPoolWaitTimeout(t *testing.T) {
	ctx := testContext(t)
	opts := quietOptions()
	opts.MaxDedicated = 1
	c, err := NewClient(ctx, redistest.Server().Addr, opts)
	require.NoError(t, err)
	defer c.Close()
	list := clientKey(t, "list")

	got := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "BLPOP", list, "0")
		got <- err
	}()
	require.Eventually(t, func() bool { return c.Stats().DedicatedInUse == 1 }, 20*time.Second, time.Millisecond)
	before := c.Stats().Timeouts

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = c.Do(short, "BLPOP", list, "0")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, uint64(1), c.Stats().Timeouts-before, "the wait for the pool's only Conn")

	_, err = c.Do(ctx, "RPUSH", list, "x")
	require.NoError(t, err)
	require.NoError(t, <-got)
}
