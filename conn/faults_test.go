package conn

import (
	"context"
	"fmt"
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
	assert.False(t, SafeToRetry(written), "the command being written may have run: %v", written)
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

// TestEarlyReplyIsNotTheNextCallers: the server answers GET k and, in the same
// write, sends a push and a reply nobody asked for. The push holds the reader
// goroutine (OnPush blocks) until the next command has been written, so the
// stray reply is decoded with that command at the head of the queue. It was
// read before the command was written, so it cannot be its reply: the Conn
// closes with a protocol error instead of handing it over. The fake is
// served over net.Pipe, where one write arrives in one read.
func TestEarlyReplyIsNotTheNextCallers(t *testing.T) {
	written := make(chan struct{})
	s := fakeserver.New(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "k"),
		fakeserver.ReplyRaw([]byte("$4\r\nmine\r\n>2\r\n$7\r\nmessage\r\n$4\r\nhold\r\n$6\r\nstray!\r\n")),
		fakeserver.Expect("GET", "other"), fakeserver.Signal(written),
		fakeserver.Stall(nil))
	inPush, release := make(chan struct{}), make(chan struct{})
	onPush := func(resp.Value) {
		close(inPush)
		<-release
	}
	ctx := testContext(t)
	c, err := NewConn(ctx, s.Pipe(), &Options{OnPush: onPush})
	require.NoError(t, err)
	defer c.Close()

	v, err := c.Do(ctx, "GET", "k")
	require.NoError(t, err)
	got, _ := v.Text()
	require.Equal(t, "mine", got)
	<-inPush
	errc := make(chan error, 1)
	go func() {
		v, err := c.Do(ctx, "GET", "other")
		if err == nil {
			err = fmt.Errorf("got reply %v", v)
		}
		errc <- err
	}()
	<-written
	close(release)
	err = <-errc
	require.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, resp.ErrProtocol)
	assert.Contains(t, err.Error(), "read before the oldest waiting command was written")
	assert.False(t, SafeToRetry(err), "the command was written")
	<-c.Done()
}
