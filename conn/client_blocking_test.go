package conn

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

func TestIsBlocking(t *testing.T) {
	tests := []struct {
		cmd  string
		want bool
	}{
		{"BLPOP l 0", true},
		{"blpop l 0", true},
		{"BRPOP l 1.5", true},
		{"BRPOPLPUSH a b 0", true},
		{"BLMOVE a b LEFT RIGHT 0", true},
		{"BLMPOP 0 1 l LEFT", true},
		{"BZPOPMIN z 0", true},
		{"bzPopMax z 0", true},
		{"BZMPOP 0 1 z MIN", true},
		{"WAIT 1 0", true},
		{"WAITAOF 1 0 0", true},
		{"XREAD BLOCK 0 STREAMS s $", true},
		{"XREAD COUNT 1 block 100 STREAMS s $", true},
		{"XREADGROUP GROUP g c BLOCK 0 STREAMS s >", true},
		{"XREAD STREAMS s $", false},
		{"XREAD STREAMS block 0", false}, // a stream named "block"
		{"XREADGROUP GROUP g c COUNT 1 STREAMS s >", false},
		{"GET BLPOP", false},
		{"LPOP l", false},
		{"LMOVE a b LEFT RIGHT", false},
		{"ZPOPMIN z", false},
		{"WAITX", false},
		{"BLPOPX l 0", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			assert.Equal(t, tt.want, isBlocking(strings.Fields(tt.cmd)))
		})
	}
	assert.True(t, inspectBatch([][]string{{"GET", "k"}, {"BLPOP", "l", "0"}}).blocking)
	assert.False(t, inspectBatch([][]string{{"GET", "k"}, {"SET", "k", "v"}}).blocking)
}

func TestIsBlockingDoesNotAllocate(t *testing.T) {
	cmds := [][]string{{"GET", "k"}, {"blpop", "l", "0"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}}
	allocs := testing.AllocsPerRun(100, func() {
		for _, cmd := range cmds {
			isBlocking(cmd)
		}
	})
	assert.Zero(t, allocs)
}

// TestBackoff: redials are spaced by internal/backoff from 10 ms to 1 s
// (the policy itself is tested there).
func TestBackoff(t *testing.T) {
	for attempt, ceiling := range map[int]time.Duration{1: 10 * time.Millisecond, 3: 40 * time.Millisecond, 100: time.Second} {
		for range 50 {
			d := redialBackoff.Delay(attempt)
			assert.GreaterOrEqual(t, d, ceiling/2, "attempt %d", attempt)
			assert.LessOrEqual(t, d, ceiling, "attempt %d", attempt)
		}
	}
}

// TestMaxDedicatedWaits: with MaxDedicated 2 and two BLPOPs holding both
// dedicated Conns, a third waits for one within its context, and returns
// its context's error when that ends first; once an element arrives, a
// freed Conn serves the next call.
func TestMaxDedicatedWaits(t *testing.T) {
	ctx := testContext(t)
	c, err := NewClient(ctx, redistest.Server().Addr, &Options{MaxDedicated: 2})
	require.NoError(t, err)
	defer c.Close()
	key := "conn:maxdedicated:" + t.Name()
	_, err = c.Do(ctx, "DEL", key)
	require.NoError(t, err)

	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			_, err := c.Do(ctx, "BLPOP", key, "0")
			assert.NoError(t, err)
		})
	}
	require.Eventually(t, func() bool { return c.pool.loanedLen() == 2 }, 10*time.Second, time.Millisecond)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = c.Do(short, "BLPOP", key, "0")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 2, c.pool.loanedLen(), "no third Conn was dialled")

	_, err = c.Do(ctx, "RPUSH", key, "a", "b", "c")
	require.NoError(t, err)
	wg.Wait()
	v, err := c.Do(ctx, "BLPOP", key, "1")
	require.NoError(t, err)
	assert.Equal(t, "c", text(t, v.Elems()[1]))
}
