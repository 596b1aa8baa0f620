package chaos

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// TestStrayReplyNeverReachesNextCaller: the server answers GET k with "mine"
// and, in the same write, with a second reply nobody asked for. The stray
// frame was read before the next command was written, so it cannot be that
// command's answer: conn must close the connection with a protocol error,
// whether its reader decodes the stray frame before the next Do is queued or
// after (conn once handed it to that Do then, in a few percent of runs). The
// server never answers GET other, so any reply the next Do gets is a crossed
// one. The race is timing-dependent, so the test tries many connections; in
// every other one a push frame comes between the two replies, and OnPush
// yields the reader goroutine's processor, which gives the caller of GET k
// time to send the next command before the stray frame is decoded.
func TestStrayReplyNeverReachesNextCaller(t *testing.T) {
	const tries = 300
	crossed := 0
	for i := range tries {
		raw := "$4\r\nmine\r\n$6\r\nstray!\r\n"
		var opts *conn.Options
		if i%2 == 1 {
			raw = "$4\r\nmine\r\n>2\r\n$7\r\nmessage\r\n$4\r\nslow\r\n$6\r\nstray!\r\n"
			opts = &conn.Options{OnPush: func(resp.Value) { runtime.Gosched() }}
		}
		s := fakeserver.Start(t).Script(
			fakeserver.AcceptHello(),
			fakeserver.Expect("GET", "k"),
			fakeserver.ReplyRaw([]byte(raw)),
			fakeserver.Stall(nil), // until the client hangs up
		)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := conn.Dial(ctx, s.Addr(), opts)
		require.NoError(t, err)
		v, err := c.Do(ctx, "GET", "k")
		require.NoError(t, err)
		mine, _ := v.Text()
		require.Equal(t, "mine", mine)
		if _, err := c.Do(ctx, "GET", "other"); err == nil {
			crossed++
		} else {
			require.ErrorIs(t, err, conn.ErrClosed)
			require.ErrorIs(t, err, resp.ErrProtocol)
		}
		c.Close()
		cancel()
		s.Close()
	}
	require.Zero(t, crossed, "the stray reply reached the next caller in %d of %d connections", crossed, tries)
}
