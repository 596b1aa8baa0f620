package conn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// TestDedicatedDialEndedByContext: a dedicated Conn's dial that the
// caller's deadline ends (here, one already past) fails with an error that
// says so (errors.Is DeadlineExceeded), unsent, and is one Timeout.
func TestDedicatedDialEndedByContext(t *testing.T) {
	for _, blocking := range []bool{false, true} {
		c, ctx := newTestClient(t, redistest.Server().Addr)
		require.Zero(t, c.pool.idleLen(), "no dedicated Conn yet: the call must dial one")
		past, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		before := c.Stats().Timeouts
		var err error
		if blocking {
			_, err = c.Do(past, "BLPOP", clientKey(t, "list"), "0.01")
		} else {
			err = c.Dedicated(past, func(*Conn) error { return nil })
		}
		assert.ErrorIs(t, err, context.DeadlineExceeded, "blocking %v: %v", blocking, err)
		assert.True(t, SafeToRetry(err), "nothing was sent")
		assert.Equal(t, before+1, c.Stats().Timeouts, "one call whose context ended")
	}
}

// TestDedicatedResetIsNotTheCallers: the DISCARD and UNWATCH that reset a
// Conn after Dedicated are the Client's own: no hook reports them on the
// caller's context, and the Conn's Stats count neither DISCARD's error
// reply nor their withdrawal when the caller's context ends meanwhile.
func TestDedicatedResetIsNotTheCallers(t *testing.T) {
	var rec hookRecorder
	ctx := testContext(t)
	c, err := NewClient(ctx, redistest.Server().Addr, &Options{Hooks: rec.hooks()})
	require.NoError(t, err)
	defer c.Close()
	before := c.Stats()
	const n = 20
	for range n {
		require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
			_, err := cn.Do(ctx, "PING")
			return err
		}))
	}
	// Contexts that end at random points, some while the reset is in
	// flight (then it is withdrawn): only calls that return their
	// context's error are Timeouts.
	var ended uint64
	for i := range 300 {
		short, cancel := context.WithTimeout(ctx, time.Duration(i%100)*5*time.Microsecond)
		err := c.Dedicated(short, func(cn *Conn) error {
			_, err := cn.Do(short, "PING")
			return err
		})
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded):
			ended++
		default:
			t.Errorf("call %d: an error that is not its context's: %v", i, err)
		}
		cancel()
	}
	after := c.Stats()
	rec.mu.Lock()
	pipelines := len(rec.pipelines)
	commands := len(rec.commands)
	rec.mu.Unlock()
	assert.GreaterOrEqual(t, commands, n, "one event per PING")
	assert.Zero(t, pipelines, "no event for the reset")
	assert.Equal(t, uint64(commands-failed(&rec)), after.Commands-before.Commands, "the PINGs' replies only")
	assert.Zero(t, after.Errors-before.Errors, "no error reply reached a caller")
	assert.Equal(t, ended, after.Timeouts-before.Timeouts, "Timeouts counts the calls that returned their context's error")
	t.Logf("%d calls ended by their context", ended)
}

// failed counts the Command events with an error.
func failed(rec *hookRecorder) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, e := range rec.commands {
		if e.Err != nil {
			n++
		}
	}
	return n
}
