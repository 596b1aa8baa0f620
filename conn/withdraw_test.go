package conn

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// TestWithdrawManyUnwritten: with the writer stuck on a paused server, n
// callers queue 1 KiB SETs under one context, which then ends. Each takes
// its command back in constant time, so the last one returns soon after
// the context ended however many there are: 52 ms for 6,000 callers under
// -race, where it took 2.6 s when each withdrawal moved every later
// command's bytes (without -race: 135 ms for 40,000, where it took 708 ms).
// None of the SETs is sent.
func TestWithdrawManyUnwritten(t *testing.T) {
	n := 60_000
	if raceEnabled {
		n = 6_000 // the race detector allows 8,128 live goroutines
	}
	node, c := pausedNode(t)
	ctx := testContext(t)
	resume := pause(t, node)

	bigDone := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "SET", "conn:withdraw:big", strings.Repeat("x", 64<<20))
		bigDone <- err
	}()
	require.Eventually(t, func() bool { w, _ := c.inFlight(); return w == 1 },
		10*time.Second, time.Millisecond, "the big SET is handed to the writer")

	shared, cancel := context.WithCancel(ctx)
	value := strings.Repeat("v", 1<<10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var last time.Time
	for i := range n {
		wg.Go(func() {
			_, err := c.Do(shared, "SET", "conn:withdraw:"+strconv.Itoa(i), value)
			now := time.Now()
			assert.ErrorIs(t, err, context.Canceled)
			mu.Lock()
			if now.After(last) {
				last = now
			}
			mu.Unlock()
		})
	}
	require.Eventually(t, func() bool { _, u := c.inFlight(); return u == n },
		20*time.Second, time.Millisecond, "every SET is queued")
	start := time.Now()
	cancel()
	wg.Wait()
	after := last.Sub(start)
	t.Logf("%d callers: the last returned %v after the context ended", n, after)
	assert.Less(t, after, time.Second)
	_, unwritten := c.inFlight()
	assert.Zero(t, unwritten)

	require.NoError(t, resume())
	require.NoError(t, <-bigDone)
	v, err := c.Do(ctx, "DBSIZE")
	require.NoError(t, err)
	size, _ := v.Int()
	assert.Equal(t, int64(1), size, "only the big SET was sent")
}

// TestWithdrawAfterReplyTaken: a caller whose context ends in the moment
// after the reader took its reply (counted under Conn.mu) and before it
// handed it over may not withdraw: it gets the reply, and the Conn's Stats
// count one reply and no timeout. Before, the caller left with its
// context's error and the reply was counted too, one Command more than the
// callers got (TestDedicatedResetIsNotTheCallers failed so, once in a CI
// run).
func TestWithdrawAfterReplyTaken(t *testing.T) {
	c := &Conn{}
	r := c.getRequest(shapeOne)
	c.mu.Lock()
	c.pending.add(r)
	c.pending.markWritten(0)
	// What deliver does under Conn.mu, up to the hand-over.
	require.Same(t, r, c.pending.oldest())
	require.True(t, r.take(resp.NewSimpleString("PONG")))
	c.countReply(r, false)
	c.pending.answered()
	c.mu.Unlock()

	ok, _ := c.withdraw(r)
	require.False(t, ok, "the reply was taken: the caller must wait for it")
	r.answer()
	<-r.done
	assert.Equal(t, "PONG", r.val.String())
	s := c.Stats()
	assert.Equal(t, uint64(1), s.Commands, "one reply, handed to its caller")
	assert.Zero(t, s.Timeouts, "no call ended by its context")
	recycle(r)
}
