package conn

import (
	"context"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// lendLong makes c's reader goroutine lend the socket for an hour instead of
// lendWindow, so that a test can catch it lent however slow the machine.
func lendLong(c *Conn) { c.lendFor.Store(int64(time.Hour)) }

// waitLent waits until c's reader goroutine has lent the socket (it does
// after a reply), so that the next call whose context never ends reads its
// own reply.
func waitLent(t *testing.T, c *Conn) {
	t.Helper()
	require.Eventually(t, func() bool { return c.reading.Load() == readLent }, 10*time.Second, 50*time.Microsecond)
}

// TestCallerReadsOwnReply checks the serial path where a caller alone in
// flight reads its reply itself: replies are right, and a stream that breaks
// under that caller closes the Conn and tells the caller why.
func TestCallerReadsOwnReply(t *testing.T) {
	ctx := context.Background() // never ends: the caller may read for itself
	t.Run("replies", func(t *testing.T) {
		c := dialTest(t, nil)
		lendLong(c)
		_, err := c.Do(ctx, "PING")
		require.NoError(t, err)
		for i := range 50 {
			waitLent(t, c)
			v, err := c.Do(ctx, "ECHO", strconv.Itoa(i))
			require.NoError(t, err)
			got, _ := v.Text()
			require.Equal(t, strconv.Itoa(i), got)
		}
		waitLent(t, c)
		vals, err := c.DoMulti(ctx, []string{"ECHO", "a"}, []string{"ECHO", "b"})
		require.NoError(t, err)
		a, _ := vals[0].Text()
		b, _ := vals[1].Text()
		assert.Equal(t, []string{"a", "b"}, []string{a, b})
		assert.Equal(t, uint64(51), c.ownReads.Load(), "every call after the first read its own reply")
	})
	for _, tc := range []struct {
		name  string
		step  fakeserver.Step
		cause error
	}{
		{"unknown type byte", fakeserver.ReplyRaw([]byte("@what\r\n")), resp.ErrProtocol},
		{"cut mid-reply", fakeserver.DropMidReply(resp.NewBulkString("value")), io.ErrUnexpectedEOF},
		{"closed", fakeserver.Close(), io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeserver.Start(t).Script(fakeserver.AcceptHello(),
				fakeserver.Expect("GET", "a"), fakeserver.Reply(resp.NewBulkString("1")),
				fakeserver.Expect("GET", "k"), tc.step)
			c, err := Dial(testContext(t), s.Addr(), nil)
			require.NoError(t, err)
			defer c.Close()
			lendLong(c)
			_, err = c.Do(ctx, "GET", "a")
			require.NoError(t, err)
			waitLent(t, c)
			_, err = c.Do(ctx, "GET", "k")
			assert.Equal(t, uint64(1), c.ownReads.Load())
			require.ErrorIs(t, err, ErrClosed)
			assert.ErrorIs(t, err, tc.cause)
			<-c.Done()
			assert.Equal(t, StateClosed, c.State())
		})
	}
}

// TestLentSocketNoticesLoss: a Conn whose reader goroutine lent the socket
// (or took it back after lendWindow) and then sat idle still notices that
// the server dropped it.
func TestLentSocketNoticesLoss(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	v, err := c.Do(context.Background(), "CLIENT", "ID")
	require.NoError(t, err)
	id, err := v.Int()
	require.NoError(t, err)
	_, err = redistest.Server().Do(ctx, "CLIENT", "KILL", "ID", strconv.FormatInt(id, 10))
	require.NoError(t, err)
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("the Conn did not notice the server dropped it")
	}
	_, err = c.Do(context.Background(), "PING")
	assert.ErrorIs(t, err, ErrClosed)
}

// TestCloseWhileCallerReads closes a Conn while a caller is blocked reading
// its own reply from a paused server: the call fails with ErrClosed and the
// Conn finishes closing.
func TestCloseWhileCallerReads(t *testing.T) {
	n, c := pausedNode(t)
	lendLong(c)
	_, err := c.Do(context.Background(), "PING")
	require.NoError(t, err)
	waitLent(t, c)
	require.NoError(t, n.Pause())
	t.Cleanup(func() { n.Resume() })

	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), "GET", "conn:lent")
		errc <- err
	}()
	require.Eventually(t, func() bool { return c.reading.Load() == readByCaller }, 10*time.Second, 50*time.Microsecond)
	require.NoError(t, c.Close())
	assert.ErrorIs(t, <-errc, ErrClosed)
	assert.Equal(t, StateClosed, c.State())
}

// TestMixedReaders runs callers that may read for themselves until their
// reply comes (contexts that never end) alongside callers that read for
// themselves within a deadline or wait for the reader goroutine (contexts
// with deadlines): every caller gets its own reply.
func TestMixedReaders(t *testing.T) {
	c := dialTest(t, nil)
	deadline := testContext(t)
	var wg sync.WaitGroup
	for g := range 8 {
		ctx := context.Background()
		if g%2 == 1 {
			ctx = deadline
		}
		wg.Go(func() {
			for i := range 300 {
				want := strconv.Itoa(g) + ":" + strconv.Itoa(i)
				if i%50 == 0 {
					vals, err := c.DoMulti(ctx, []string{"ECHO", want}, []string{"ECHO", want + "+"})
					if !assert.NoError(t, err) {
						return
					}
					second, _ := vals[1].Text()
					assert.Equal(t, want+"+", second)
					continue
				}
				v, err := c.Do(ctx, "ECHO", want)
				if !assert.NoError(t, err) {
					return
				}
				got, _ := v.Text()
				if !assert.Equal(t, want, got) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCallerReadsNoStrayReply: a caller reading its own reply finds behind it
// a second reply that nobody asked for. Whoever reads that stray frame next,
// the reader goroutine taking the socket back or the next caller reading for
// itself, the Conn closes with a protocol error rather than hand it to the
// next call. Which of the two gets there first is up to the scheduler, so
// the test tries a few connections.
func TestCallerReadsNoStrayReply(t *testing.T) {
	ctx := context.Background() // never ends: the caller may read for itself
	for range 20 {
		s := fakeserver.Start(t).Script(fakeserver.AcceptHello(),
			fakeserver.Expect("GET", "a"), fakeserver.Reply(resp.NewBulkString("1")),
			fakeserver.Expect("GET", "k"), fakeserver.ReplyRaw([]byte("$4\r\nmine\r\n$6\r\nstray!\r\n")),
			fakeserver.Stall(nil))
		c, err := Dial(testContext(t), s.Addr(), nil)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		lendLong(c)
		_, err = c.Do(ctx, "GET", "a")
		require.NoError(t, err)
		waitLent(t, c)
		v, err := c.Do(ctx, "GET", "k")
		require.NoError(t, err)
		mine, _ := v.Text()
		require.Equal(t, "mine", mine)
		require.Equal(t, uint64(1), c.ownReads.Load(), "GET k read its own reply")
		v, err = c.Do(ctx, "GET", "other")
		require.ErrorIs(t, err, ErrClosed, "got %v", v)
		assert.ErrorIs(t, err, resp.ErrProtocol)
		<-c.Done()
		s.Close()
	}
}
