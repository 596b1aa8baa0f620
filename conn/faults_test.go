package conn

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// TestCloseTellsUnsentFromWritten closes a Conn whose writer is stuck on a
// paused server: the command being written may have run, the one still in
// the buffer cannot have, and SafeToRetry says which is which.
func TestCloseTellsUnsentFromWritten(t *testing.T) {
	n, c := pausedNode(t)
	ctx := testContext(t)
	require.NoError(t, n.Pause())
	t.Cleanup(func() { n.Resume() })

	var wg sync.WaitGroup
	do := func(args ...string) <-chan error {
		errc := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Do(ctx, args...)
			errc <- err
		}()
		return errc
	}
	bigErr := do("SET", "conn:unsent:big", strings.Repeat("x", 64<<20))
	require.Eventually(t, func() bool { w, _ := c.inFlight(); return w == 1 }, 10*time.Second, time.Millisecond)
	incrErr := do("INCR", "conn:unsent:counter")
	require.Eventually(t, func() bool { _, u := c.inFlight(); return u == 1 }, 10*time.Second, time.Millisecond)

	require.NoError(t, c.Close())
	wg.Wait()
	written, unsent := <-bigErr, <-incrErr
	assert.ErrorIs(t, written, ErrClosed)
	assert.False(t, SafeToRetry(written), "the command being written may have run")
	assert.ErrorIs(t, unsent, ErrClosed)
	assert.True(t, SafeToRetry(unsent), "the command still in the buffer was never sent")

	_, err := c.Do(ctx, "PING")
	assert.ErrorIs(t, err, ErrClosed)
	assert.True(t, SafeToRetry(err), "a command refused by a closed Conn was never sent")
	assert.False(t, SafeToRetry(context.Canceled))
	assert.False(t, SafeToRetry(nil))
}

// TestBrokenStreamClosesConn: what the reader cannot match or decode ends
// the connection, and every caller learns why.
func TestBrokenStreamClosesConn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []fakeserver.Step
		cause error
		idle  bool // the stream breaks with no command sent: wait for Done first
	}{
		{"reply nobody asked for", []fakeserver.Step{fakeserver.Reply(resp.NewSimpleString("OK"))}, resp.ErrProtocol, true},
		{"unknown type byte", []fakeserver.Step{fakeserver.Expect("GET", "k"), fakeserver.ReplyRaw([]byte("@what\r\n"))}, resp.ErrProtocol, false},
		{"cut mid-reply", []fakeserver.Step{fakeserver.Expect("GET", "k"), fakeserver.DropMidReply(resp.NewBulkString("value"))}, io.ErrUnexpectedEOF, false},
		{"closed", []fakeserver.Step{fakeserver.Expect("GET", "k"), fakeserver.Close()}, io.EOF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeserver.Start(t).Script(append([]fakeserver.Step{fakeserver.AcceptHello()}, tc.steps...)...)
			c, err := Dial(testContext(t), s.Addr(), nil)
			require.NoError(t, err)
			defer c.Close()
			if tc.idle {
				<-c.Done()
			}
			_, err = c.Do(testContext(t), "GET", "k")
			require.ErrorIs(t, err, ErrClosed)
			assert.ErrorIs(t, err, tc.cause)
			assert.Contains(t, err.Error(), "conn: connection lost: ")
			<-c.Done()
			assert.Equal(t, StateClosed, c.State())
		})
	}
}
