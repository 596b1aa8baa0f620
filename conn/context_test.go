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

// pausedNode starts a server of the test's own and returns it with a Conn,
// so that pausing it disturbs no other test. The Conn's write buffer is
// bounded far above the 64 MiB command these tests stall the writer with,
// so that commands still queue behind it, and it sends no idle PING, which
// would take a place in the queue these tests count.
func pausedNode(t *testing.T) (*redistest.Node, *Conn) {
	t.Helper()
	n := redistest.NewNode(t, redistest.NodeOptions{})
	c := dialNode(t, n, &Options{MaxWriteBuffer: 512 << 20, IdlePing: -1})
	return n, c
}

// pause pauses node for the test. The returned resume resumes it and
// reports the error; later calls do nothing. The test's end resumes a node
// never resumed, so that its cleanup can talk to it.
func pause(t *testing.T, node *redistest.Node) (resume func() error) {
	t.Helper()
	require.NoError(t, node.Pause())
	var once sync.Once
	resume = func() (err error) {
		once.Do(func() { err = node.Resume() })
		return err
	}
	t.Cleanup(func() { resume() })
	return resume
}

// inFlight counts c's written requests and its unwritten ones, those
// withdrawn but not yet dropped left out.
func (c *Conn) inFlight() (written, unwritten int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending.written(), c.pending.unsent()
}

func TestContextEndedBeforeCallIsNotSent(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	_, err := c.Do(ctx, "DEL", "conn:ctx:before")
	require.NoError(t, err)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Do(cancelled, "INCR", "conn:ctx:before")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.DoMulti(cancelled, []string{"INCR", "conn:ctx:before"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, c.Send(cancelled, "SUBSCRIBE", "conn:ctx:before"), context.Canceled)

	v, err := c.Do(ctx, "GET", "conn:ctx:before")
	require.NoError(t, err)
	assert.True(t, v.IsNull(), "the INCR was sent: %v", v)
}

// TestContextEndedBeforeWriteIsNotSent blocks the writer on a paused server
// (a write bigger than the socket buffers), queues three INCRs behind it and
// lets the middle one's context end: it is cut out of the buffer, and the
// other two are written and answered in step once the server resumes.
func TestContextEndedBeforeWriteIsNotSent(t *testing.T) {
	n, c := pausedNode(t)
	ctx := testContext(t)
	resume := pause(t, n)

	var wg sync.WaitGroup
	do := func(ctx context.Context, args ...string) <-chan error {
		errc := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Do(ctx, args...)
			errc <- err
		}()
		return errc
	}
	big := strings.Repeat("x", 64<<20)
	bigDone := do(ctx, "SET", "conn:ctx:big", big)
	require.Eventually(t, func() bool { w, _ := c.inFlight(); return w == 1 },
		10*time.Second, time.Millisecond, "the big SET is handed to the writer")

	// The writer is stuck in Write; the INCRs queue in order behind it.
	firstDone := do(ctx, "INCR", "conn:ctx:first")
	require.Eventually(t, func() bool { _, u := c.inFlight(); return u == 1 }, 10*time.Second, time.Millisecond)
	short, cancel := context.WithCancel(ctx)
	middleDone := do(short, "INCR", "conn:ctx:middle")
	require.Eventually(t, func() bool { _, u := c.inFlight(); return u == 2 }, 10*time.Second, time.Millisecond)
	lastDone := do(ctx, "INCR", "conn:ctx:last")
	require.Eventually(t, func() bool { _, u := c.inFlight(); return u == 3 }, 10*time.Second, time.Millisecond)

	cancel()
	assert.ErrorIs(t, <-middleDone, context.Canceled)
	_, unwritten := c.inFlight()
	assert.Equal(t, 2, unwritten, "the cancelled command left the queue")

	require.NoError(t, resume())
	assert.NoError(t, <-bigDone)
	assert.NoError(t, <-firstDone)
	assert.NoError(t, <-lastDone)
	wg.Wait()

	for key, want := range map[string]string{"conn:ctx:first": "1", "conn:ctx:middle": "", "conn:ctx:last": "1"} {
		v, err := c.Do(ctx, "GET", key)
		require.NoError(t, err)
		if want == "" {
			assert.True(t, v.IsNull(), "%s was sent: %v", key, v)
		} else {
			assert.Equal(t, want, text(t, v), key)
		}
	}
}

// TestDeadlineWhileServerPaused: a written command whose server stops
// answering returns at its deadline; after the server resumes, its late
// reply is read and discarded and the Conn answers correctly.
func TestDeadlineWhileServerPaused(t *testing.T) {
	n, c := pausedNode(t)
	ctx := testContext(t)
	_, err := c.Do(ctx, "SET", "conn:paused:a", "a")
	require.NoError(t, err)
	_, err = c.Do(ctx, "SET", "conn:paused:b", "b")
	require.NoError(t, err)

	resume := pause(t, n)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := c.Do(short, "GET", "conn:paused:a")
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 5*time.Second, "Do returned long after its deadline")
			short, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			_, err = c.DoMulti(short, []string{"GET", "conn:paused:a"}, []string{"GET", "conn:paused:a"})
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}()
	}
	wg.Wait()
	assert.Equal(t, StateOpen, c.State())

	require.NoError(t, resume())
	for range 3 {
		v, err := c.Do(ctx, "GET", "conn:paused:b")
		require.NoError(t, err)
		assert.Equal(t, "b", text(t, v), "a late reply was taken for this one")
	}
	written, unwritten := c.inFlight()
	assert.Zero(t, written+unwritten)
}
