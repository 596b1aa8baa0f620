package conn

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// bystanders runs n goroutines that ECHO their own payloads on c until stop
// is called, which returns how many calls they made and how many failed or
// got someone else's reply.
func bystanders(ctx context.Context, t *testing.T, c *Client, n int) (stop func() (calls, failed int64)) {
	var wg sync.WaitGroup
	var calls, failed atomic.Int64
	done := make(chan struct{})
	for g := range n {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				payload := "bystander-" + strconv.Itoa(g) + "-" + strconv.Itoa(i)
				v, err := c.Do(ctx, "ECHO", payload)
				calls.Add(1)
				if s, _ := v.Text(); err != nil || s != payload {
					if failed.Add(1) == 1 {
						t.Errorf("bystander: ECHO %s: %v, %v", payload, v, err)
					}
				}
			}
		})
	}
	return func() (int64, int64) {
		close(done)
		wg.Wait()
		return calls.Load(), failed.Load()
	}
}

// TestReplyOverLimitFailsOnlyItsCall: with the limits lowered through
// Options, SRANDMEMBER k -5000 (5,000 elements), a 16 KiB GET and a DoMulti
// holding that GET each fail with an error wrapping resp.ErrTooLarge, not
// SafeToRetry, while eight bystanders ECHO on the same shared Conn. Every
// bystander call succeeds with its own reply, the shared Conn is never
// replaced, and the over-limit commands work again within the limits.
// Before, the first over-limit reply closed the Conn for everyone
// ("conn: connection lost: resp: reply holds more than the limit...").
func TestReplyOverLimitFailsOnlyItsCall(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			ctx := testContext(t)
			c, err := NewClient(ctx, redistest.Server().Addr,
				&Options{Protocol: proto, MaxReplyElements: 1000, MaxBulkLen: 4096})
			require.NoError(t, err)
			defer c.Close()
			set, big := clientKey(t, "set"), clientKey(t, "big")
			_, err = c.Do(ctx, "SADD", set, "a", "b", "c")
			require.NoError(t, err)
			_, err = c.Do(ctx, "SET", big, strings.Repeat("x", 16<<10))
			require.NoError(t, err)
			shared := c.current.Load()

			stop := bystanders(ctx, t, c, 8)
			for range 20 {
				_, err := c.Do(ctx, "SRANDMEMBER", set, "-5000")
				requireTooLarge(t, err, "more than the limit of 1000 elements")
				_, err = c.Do(ctx, "GET", big)
				requireTooLarge(t, err, "bulk string length 16384 exceeds the limit of 4096 bytes")
				vs, err := c.DoMulti(ctx, []string{"ECHO", "before"}, []string{"GET", big}, []string{"ECHO", "after"})
				requireTooLarge(t, err, "exceeds the limit")
				assert.Nil(t, vs)
				v, err := c.Do(ctx, "SRANDMEMBER", set, "-10")
				require.NoError(t, err)
				assert.Len(t, v.Elems(), 10)
			}
			calls, failed := stop()
			t.Logf("%d bystander calls, %d failed", calls, failed)
			assert.Zero(t, failed, "of %d bystander calls", calls)
			assert.Same(t, shared, c.current.Load(), "the shared Conn was replaced")
			assert.Equal(t, StateOpen, shared.State())
		})
	}
}

func requireTooLarge(t *testing.T, err error, msg string) {
	t.Helper()
	require.ErrorIs(t, err, resp.ErrTooLarge)
	assert.Contains(t, err.Error(), msg)
	assert.True(t, strings.HasPrefix(err.Error(), "conn: reply from "), "%v", err)
	assert.False(t, SafeToRetry(err), "the command ran: %v", err)
	assert.False(t, errors.Is(err, ErrClosed), "the Conn did not close: %v", err)
}

// TestLuaNaNDouble: Redis 7.0 sends the NaN of a script's double as
// ",-nan". Before, the Conn closed on it ("conn: connection lost: resp: bad
// double \"-nan\""), failing every call in flight; now it is a double NaN.
func TestLuaNaNDouble(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	stop := bystanders(ctx, t, c, 4)
	for range 20 {
		v, err := c.Do(ctx, "EVAL", "redis.setresp(3); return {double=0/0}", "0")
		require.NoError(t, err)
		require.Equal(t, resp.Double, v.Kind(), "%v", v)
		f, err := v.Float()
		require.NoError(t, err)
		assert.True(t, math.IsNaN(f))
	}
	calls, failed := stop()
	assert.Zero(t, failed, "of %d bystander calls", calls)
}

// TestUndecodableReplyFailsOnlyItsCall: a fake server answers one GET with
// a double no spelling allows and another with a push over the element
// limit. The bad double fails only its own call, and the next call on the
// Conn gets its own reply; the push, which answers no call, closes the Conn
// rather than being dropped.
func TestUndecodableReplyFailsOnlyItsCall(t *testing.T) {
	s := fakeserver.Start(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "a"), fakeserver.ReplyRaw([]byte(",1.2.3\r\n")),
		fakeserver.Expect("GET", "b"), fakeserver.Reply(resp.NewBulkString("vb")),
		fakeserver.Expect("GET", "c"), fakeserver.ReplyRaw([]byte(">3\r\n+message\r\n+ch\r\n+hi\r\n")),
	)
	ctx := testContext(t)
	c, err := Dial(ctx, s.Addr(), &Options{MaxReplyElements: 2, OnPush: func(resp.Value) {}})
	require.NoError(t, err)
	defer c.Close()

	_, err = c.Do(ctx, "GET", "a")
	var skipped *resp.SkippedError
	require.ErrorAs(t, err, &skipped)
	assert.ErrorIs(t, err, resp.ErrProtocol)
	assert.Contains(t, err.Error(), `bad double "1.2.3"`)
	assert.Equal(t, StateOpen, c.State())

	v, err := c.Do(ctx, "GET", "b")
	require.NoError(t, err)
	assert.Equal(t, "vb", text(t, v))

	_, err = c.Do(ctx, "GET", "c")
	require.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, resp.ErrTooLarge)
	<-c.Done()
}
