package conn

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// sendTimeout bounds each Send of the barrier tests: long for a loaded
// machine, short beside testTimeout, so a wedged Send fails the test soon.
const sendTimeout = 5 * time.Second

func sendWithin(t *testing.T, c *Conn, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(testContext(t), sendTimeout)
	defer cancel()
	return c.Send(ctx, args...)
}

// TestSendPubSubOnlyUser: a user allowed pub/sub only (PING refused with
// NOPERM) subscribes, is refused a channel outside its pattern, and
// unsubscribes; every Send returns at once with the right outcome and the
// Conn stays in step. With PING as the barrier, the first Send waited for a
// barrier that never came.
func TestSendPubSubOnlyUser(t *testing.T) {
	ctx := testContext(t)
	const user, password = "conn-pubsub-only", "pubsub-only-pw"
	require.NoError(t, redistest.Server().AddUser(ctx, user, password, "resetchannels", "-@all", "+@pubsub", "&news:*"))
	t.Cleanup(func() { redistest.Server().Do(context.Background(), "ACL", "DELUSER", user) })

	for _, proto := range []int{3, 2} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			var log pushLog
			c := dialTest(t, &Options{Username: user, Password: password, Protocol: proto, OnPush: log.onPush})
			_, err := c.Do(ctx, "PING")
			require.ErrorContains(t, err, "NOPERM", "the barrier this test is about: PING is refused")

			require.NoError(t, sendWithin(t, c, "SUBSCRIBE", "news:a"))
			err = sendWithin(t, c, "SUBSCRIBE", "sport:b")
			var re *resp.Error
			require.ErrorAs(t, err, &re, "a channel outside &news:*")
			assert.Equal(t, "NOPERM", re.Code)

			_, err = redistest.Server().Do(ctx, "PUBLISH", "news:a", "hello")
			require.NoError(t, err)
			require.NoError(t, sendWithin(t, c, "UNSUBSCRIBE", "news:a"))
			assert.Equal(t, [][]string{
				{"subscribe", "news:a", "1"},
				{"message", "news:a", "hello"},
				{"unsubscribe", "news:a", "0"},
			}, log.all(), "the barrier's own confirmation is kept from OnPush")

			// Still in step: a command the user may run gets its reply.
			v, err := c.Do(ctx, "PUBLISH", "news:z", "x")
			require.NoError(t, err)
			assert.Equal(t, resp.Integer, v.Kind())
		})
	}
}

// TestSendWhileMasterDown: a replica whose master is gone, with
// replica-serve-stale-data off, refuses PING with MASTERDOWN but takes
// subscribe commands.
func TestSendWhileMasterDown(t *testing.T) {
	ctx := testContext(t)
	n := redistest.NewNode(t, redistest.NodeOptions{Config: []string{"replica-serve-stale-data no"}})
	port, err := redistest.FreePort() // a master that is not there
	require.NoError(t, err)
	_, err = n.Do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(port))
	require.NoError(t, err)
	var log pushLog
	c := dialNode(t, n, &Options{OnPush: log.onPush})
	_, err = c.Do(ctx, "PING")
	require.ErrorContains(t, err, "MASTERDOWN")

	require.NoError(t, sendWithin(t, c, "SUBSCRIBE", "conn:masterdown"))
	require.NoError(t, sendWithin(t, c, "UNSUBSCRIBE", "conn:masterdown"))
	assert.Equal(t, 2, len(log.all()))
	v, err := c.Do(ctx, "ECHO", "in step") // ECHO runs on a stale replica
	require.NoError(t, err)
	assert.Equal(t, "in step", text(t, v))
}

// TestSendWhileLoading: while the server loads its data (DEBUG RELOAD,
// slowed by key-load-delay), PING is refused with LOADING but subscribe
// commands run, and Send returns.
func TestSendWhileLoading(t *testing.T) {
	ctx := testContext(t)
	n := redistest.NewNode(t, redistest.NodeOptions{})
	const keys = 20_000
	cmds := make([][]string, 0, keys)
	for i := range keys {
		cmds = append(cmds, []string{"SET", "conn:loading:" + strconv.Itoa(i), strings.Repeat("v", 64)})
	}
	filler := dialNode(t, n, nil)
	_, err := filler.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	// 50 µs a key: a second of loading, with client events served every
	// few keys.
	_, err = n.DoMulti(ctx, []string{"CONFIG", "SET", "key-load-delay", "50"},
		[]string{"CONFIG", "SET", "loading-process-events-interval-bytes", "1024"})
	require.NoError(t, err)

	var log pushLog
	c := dialNode(t, n, &Options{OnPush: log.onPush})
	reloaded := make(chan error, 1)
	go func() {
		_, err := filler.Do(ctx, "DEBUG", "RELOAD")
		reloaded <- err
	}()
	require.Eventually(t, func() bool {
		_, err := c.Do(ctx, "PING")
		return err != nil && strings.Contains(err.Error(), "LOADING")
	}, 10*time.Second, time.Millisecond, "the server is loading")

	require.NoError(t, sendWithin(t, c, "SUBSCRIBE", "conn:loading"))
	require.NoError(t, sendWithin(t, c, "UNSUBSCRIBE", "conn:loading"))
	info, err := n.Info(ctx, "persistence")
	require.NoError(t, err)
	assert.Equal(t, "1", info["loading"], "both Sends ran while the server was loading")

	require.NoError(t, <-reloaded)
	v, err := c.Do(ctx, "ECHO", "loaded")
	require.NoError(t, err)
	assert.Equal(t, "loaded", text(t, v))
	assert.Equal(t, 2, len(log.all()))
}

// barrierFake answers SUBSCRIBE with its confirmations, ECHO with its
// argument and the barrier as refuse says: a server that takes the command
// but refuses the barrier, which no real state of Redis 7 does, but a
// server between two states (a script turning BUSY) might.
func barrierFake(refuseBarrier func(c *fakeserver.Conn) bool) func(*fakeserver.Conn, []string) {
	return func(c *fakeserver.Conn, cmd []string) {
		if fakeserver.ServeHello(c, cmd) {
			return
		}
		switch strings.ToUpper(cmd[0]) {
		case "SUBSCRIBE":
			for i, ch := range cmd[1:] {
				_ = c.Reply(resp.NewPush(resp.NewBulkString("subscribe"), resp.NewBulkString(ch), resp.NewInt(int64(i+1))))
			}
		case "UNSUBSCRIBE":
			if !refuseBarrier(c) {
				_ = c.Reply(resp.NewPush(resp.NewBulkString("unsubscribe"), resp.NewBulkString(cmd[1]), resp.NewInt(0)))
			}
		case "ECHO":
			_ = c.Reply(resp.NewBulkString(cmd[1]))
		default:
			_ = c.Reply(resp.NewSimpleError("ERR unknown command"))
		}
	}
}

// TestSynctestSendBarrierRefused: an error reply after the command's
// confirmation is the barrier's: Send returns nil at once, and the next
// command gets its own reply.
func TestSynctestSendBarrierRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Handle(barrierFake(func(c *fakeserver.Conn) bool {
			_ = c.Reply(resp.NewSimpleError("BUSY Redis is busy running a script"))
			return true
		}))
		var log pushLog
		cn := newFakeConn(t, s, &Options{OnPush: log.onPush})
		require.NoError(t, cn.Send(t.Context(), "SUBSCRIBE", "a"))
		v, err := cn.Do(t.Context(), "ECHO", "mine")
		require.NoError(t, err)
		assert.Equal(t, "mine", text(t, v))
		assert.Equal(t, [][]string{{"subscribe", "a", "1"}}, log.all())
	})
}

// TestSynctestSendForeignConfirmation: a confirmation the server pushes by
// itself (a sunsubscribe for a moved slot) while a Send waits. Of another
// kind than the command's, it changes nothing: the command's error is
// Send's. Of the same kind, Send takes the command's error for the
// barrier's and returns nil; the barrier's confirmation, arriving after,
// is dropped, not taken for the next command's reply.
func TestSynctestSendForeignConfirmation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Handle(func(c *fakeserver.Conn, cmd []string) {
			if fakeserver.ServeHello(c, cmd) {
				return
			}
			switch strings.ToUpper(cmd[0]) {
			case "SUBSCRIBE", "SUNSUBSCRIBE":
				_ = c.Reply(resp.NewPush(resp.NewBulkString("sunsubscribe"), resp.NewBulkString("moved"), resp.NewInt(0)))
				_ = c.Reply(resp.NewSimpleError("NOPERM no"))
			case "UNSUBSCRIBE":
				_ = c.Reply(resp.NewPush(resp.NewBulkString("unsubscribe"), resp.NewBulkString(cmd[1]), resp.NewInt(0)))
			case "ECHO":
				_ = c.Reply(resp.NewBulkString(cmd[1]))
			}
		})
		var log pushLog
		cn := newFakeConn(t, s, &Options{OnPush: log.onPush})
		assert.ErrorContains(t, cn.Send(t.Context(), "SUBSCRIBE", "a"), "NOPERM")
		assert.NoError(t, cn.Send(t.Context(), "SUNSUBSCRIBE", "a"), "the error was taken for the barrier's")
		v, err := cn.Do(t.Context(), "ECHO", "mine")
		require.NoError(t, err)
		assert.Equal(t, "mine", text(t, v))
		assert.Equal(t, [][]string{{"sunsubscribe", "moved", "0"}, {"sunsubscribe", "moved", "0"}}, log.all())
		assert.Equal(t, StateOpen, cn.State())
	})
}
