package conn

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// TestDeadlineCallerReadsOwnReply: a caller whose context can end, alone in
// flight, reads its own reply from the lent socket, with a deadline or with
// a context that is only cancellable; a reply longer than the read buffer is
// left to the reader goroutine, and still comes right.
func TestDeadlineCallerReadsOwnReply(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func(t *testing.T) context.Context
	}{
		{"deadline", func(t *testing.T) context.Context { return testContext(t) }},
		{"cancellable", func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			return ctx
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialTest(t, nil)
			lendLong(c)
			ctx := tc.ctx(t)
			_, err := c.Do(ctx, "PING")
			require.NoError(t, err)
			for i := range 50 {
				waitLent(t, c)
				v, err := c.Do(ctx, "ECHO", strconv.Itoa(i))
				require.NoError(t, err)
				require.Equal(t, strconv.Itoa(i), text(t, v))
			}
			waitLent(t, c)
			vals, err := c.DoMulti(ctx, []string{"ECHO", "a"}, []string{"ECHO", "b"})
			require.NoError(t, err)
			assert.Equal(t, []string{"a", "b"}, []string{text(t, vals[0]), text(t, vals[1])})
			assert.Equal(t, uint64(51), c.ownReads.Load(), "every call after the first read its own reply")

			long := strings.Repeat("x", 4*c.rd.Size())
			waitLent(t, c)
			v, err := c.Do(ctx, "ECHO", long)
			require.NoError(t, err)
			assert.Equal(t, long, text(t, v))
		})
	}
}

// TestDeadlineCallerLeavesFrameWhole: a caller whose deadline passes while
// half of its reply is in the buffer leaves without decoding it; the reader
// goroutine reads the rest and drops it, and the next call gets its own
// reply: the stream stays in step.
func TestDeadlineCallerLeavesFrameWhole(t *testing.T) {
	half, release := make(chan struct{}), make(chan struct{})
	s := fakeserver.Start(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "a"), fakeserver.Reply(resp.NewBulkString("1")),
		fakeserver.Expect("GET", "k"), fakeserver.ReplyRaw([]byte("$10\r\nhalf-")), fakeserver.Signal(half),
		fakeserver.Stall(release), fakeserver.ReplyRaw([]byte("value\r\n")),
		fakeserver.Expect("GET", "m"), fakeserver.Reply(resp.NewBulkString("2")))
	// No liveness check: the half reply stays half for as long as the
	// deadline takes, which is not what this test is about.
	c, err := Dial(testContext(t), s.Addr(), &Options{SilenceTimeout: -1, IdlePing: -1})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	lendLong(c)
	_, err = c.Do(context.Background(), "GET", "a")
	require.NoError(t, err)
	waitLent(t, c)

	read := c.sock.bytes.Load()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "GET", "k")
		errc <- err
	}()
	<-half
	require.Eventually(t, func() bool {
		return c.reading.Load() == readByCaller && c.sock.bytes.Load() == read+10
	}, 10*time.Second, 50*time.Microsecond, "the caller reads the first half of its reply")
	require.ErrorIs(t, <-errc, context.DeadlineExceeded)
	assert.Equal(t, uint64(0), c.ownReads.Load(), "GET k decoded nothing")

	close(release)
	v, err := c.Do(testContext(t), "GET", "m")
	require.NoError(t, err)
	assert.Equal(t, "2", text(t, v))
	assert.Equal(t, StateOpen, c.State())
}

// TestReadDeadlineDoesNotOutliveItsCall: the read deadline a caller set on
// the socket is gone before anyone else reads it, although it has passed:
// the next caller that reads for itself, or the reader goroutine taking the
// socket back, waits for its reply as long as it takes instead of failing
// the Conn with a timeout.
func TestReadDeadlineDoesNotOutliveItsCall(t *testing.T) {
	// ownRead makes a call with a 50 ms deadline that reads its own reply,
	// and waits for that deadline to pass.
	ownRead := func(t *testing.T, c *Conn) {
		t.Helper()
		end := time.Now().Add(testTimeout)
		for time.Now().Before(end) {
			// With the default window the reader goroutine may take
			// the socket back first, or a loaded machine may take the
			// whole deadline: try again with a fresh one.
			waitLent(t, c)
			before := c.ownReads.Load()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := c.Do(ctx, "PING")
			if c.ownReads.Load() != before {
				require.NoError(t, err)
				<-ctx.Done()
				cancel()
				return
			}
			cancel()
		}
		t.Fatal("no call read its own reply")
	}
	t.Run("next caller", func(t *testing.T) {
		c := dialTest(t, nil)
		lendLong(c)
		_, err := c.Do(context.Background(), "PING")
		require.NoError(t, err)
		ownRead(t, c)
		waitLent(t, c)
		before := c.ownReads.Load()
		_, err = c.Do(context.Background(), "PING")
		require.NoError(t, err)
		assert.Equal(t, before+1, c.ownReads.Load(), "the PING read its own reply")
		assert.Equal(t, StateOpen, c.State())
	})
	t.Run("reader goroutine", func(t *testing.T) {
		c := dialTest(t, nil)
		_, err := c.Do(context.Background(), "PING")
		require.NoError(t, err)
		ownRead(t, c)
		require.Eventually(t, func() bool { return c.reading.Load() == readByReader }, 10*time.Second, 50*time.Microsecond,
			"the reader goroutine takes the socket back")
		v, err := c.Do(testContext(t), "ECHO", "after")
		require.NoError(t, err)
		assert.Equal(t, "after", text(t, v))
		assert.Equal(t, StateOpen, c.State())
	})
}

// TestDeadlineCallerCancelled: a caller reading for itself from a paused
// server notices its context's cancellation (within the lend window) and
// leaves; once the server resumes, the next call gets its own reply.
func TestDeadlineCallerCancelled(t *testing.T) {
	n, c := pausedNode(t)
	_, err := c.Do(context.Background(), "PING")
	require.NoError(t, err)
	resume := pause(t, n)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "GET", "conn:cancelled")
		errc <- err
	}()
	require.Eventually(t, func() bool { written, _ := c.inFlight(); return written == 1 }, 10*time.Second, 50*time.Microsecond)
	cancel()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not notice its context's cancellation")
	}
	require.NoError(t, resume())
	v, err := c.Do(testContext(t), "ECHO", "mine")
	require.NoError(t, err)
	assert.Equal(t, "mine", text(t, v))
}

// TestDeadlineCallersMixed runs callers with every kind of context against
// one Conn, a few at a time so that the socket is often lent: no deadline,
// a long one, deadlines of up to 1.5 ms and cancellations at random points,
// with Do and DoMulti, small replies and ones longer than the read buffer.
// Every call that succeeds gets its own replies, every other fails with its
// context's error, and the Conn stays open.
func TestDeadlineCallersMixed(t *testing.T) {
	c := dialTest(t, nil)
	long := strings.Repeat("L", 3*c.rd.Size())
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 18))
			for i := range 400 {
				want := strconv.Itoa(g) + ":" + strconv.Itoa(i)
				if rng.IntN(10) == 0 {
					want += long
				}
				ctx, cancel := mixedContext(rng)
				if rng.IntN(4) == 0 {
					vals, err := c.DoMulti(ctx, []string{"ECHO", want}, []string{"ECHO", want + "+"})
					if err == nil {
						assert.Equal(t, want+"+", text(t, vals[1]))
					} else {
						assert.ErrorIs(t, err, ctx.Err(), "DoMulti %d of goroutine %d", i, g)
					}
				} else {
					v, err := c.Do(ctx, "ECHO", want)
					if err == nil {
						assert.Equal(t, want, text(t, v))
					} else {
						assert.True(t, ctx.Err() != nil && errors.Is(err, ctx.Err()), "Do %d of goroutine %d: %v", i, g, err)
					}
				}
				cancel()
			}
		})
	}
	wg.Wait()
	v, err := c.Do(testContext(t), "ECHO", "last")
	require.NoError(t, err)
	assert.Equal(t, "last", text(t, v))
	assert.Equal(t, StateOpen, c.State())
	assert.NotZero(t, c.ownReads.Load(), "some callers read their own replies")
}

// mixedContext returns one of TestDeadlineCallersMixed's kinds of context.
func mixedContext(rng *rand.Rand) (context.Context, context.CancelFunc) {
	short := time.Duration(rng.IntN(1500)) * time.Microsecond
	switch rng.IntN(4) {
	case 0:
		return context.Background(), func() {}
	case 1:
		return context.WithTimeout(context.Background(), testTimeout)
	case 2:
		return context.WithTimeout(context.Background(), short)
	default:
		ctx, cancel := context.WithCancel(context.Background())
		stop := time.AfterFunc(short, cancel)
		return ctx, func() { stop.Stop(); cancel() }
	}
}

// TestDeadlineCallsThroughFaults: serial calls with deadlines of 0.5 to 5.5
// ms, through a fault proxy that delays every chunk by up to 3 ms (around
// the lend window, so that callers reading their own reply run out of it,
// or of their deadline, with half a reply buffered) and now and then cuts
// the link after a random number of bytes, mid-reply included, to a Client
// that redials. No call ever gets a reply that is not its own, the stream is
// never out of step, and the Client serves again after every cut.
func TestDeadlineCallsThroughFaults(t *testing.T) {
	p := proxied(t)
	cl, err := NewClient(testContext(t), p.Addr(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	rng := rand.New(rand.NewPCG(18, 2))
	answered, failed, cuts := 0, 0, 0
	for i := range 400 {
		if rng.IntN(3) == 0 {
			p.SetLatency(time.Duration(rng.IntN(3000)) * time.Microsecond)
		}
		cut := rng.IntN(8) == 0
		if cut {
			p.CutAfter(int64(rng.IntN(150)))
		}
		want := "v" + strconv.Itoa(i) + strings.Repeat("x", rng.IntN(100))
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(500+rng.IntN(5000))*time.Microsecond)
		v, err := cl.Do(ctx, "ECHO", want)
		cancel()
		if cut {
			p.CutAfter(-1)
			cuts++
			require.Eventually(t, func() bool {
				_, err := cl.Do(testContext(t), "PING")
				return err == nil
			}, 10*time.Second, time.Millisecond, "the Client serves again after cut %d", cuts)
		}
		if err != nil {
			failed++
			// A reply cut short is a protocol error too, of a
			// stream that ended; a stream out of step is not that.
			if errors.Is(err, resp.ErrProtocol) {
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "call %d", i)
			}
			continue
		}
		answered++
		require.Equal(t, want, text(t, v), "call %d", i)
	}
	assert.NotZero(t, answered)
	assert.NotZero(t, failed, "the faults failed some calls")
	t.Logf("%d calls answered, %d failed, %d cuts", answered, failed, cuts)
}
