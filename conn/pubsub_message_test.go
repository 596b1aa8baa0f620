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
)

// messageLog collects what a Conn's OnPubSubMessage receives, copied.
type messageLog struct {
	mu       sync.Mutex
	messages [][]string // kind, pattern, channel, payload
}

func (l *messageLog) onMessage(m PubSubMessage) {
	l.mu.Lock()
	l.messages = append(l.messages, []string{m.Kind, string(m.Pattern), string(m.Channel), string(m.Payload)})
	l.mu.Unlock()
}

func (l *messageLog) all() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]string(nil), l.messages...)
}

// OnPubSubMessage receives the messages of every kind, in order, and
// OnPush everything else: confirmations, and a message too large for the
// read buffer.
func TestOnPubSubMessage(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			var pushes pushLog
			var messages messageLog
			c := dialTest(t, &Options{Protocol: proto, OnPush: pushes.onPush, OnPubSubMessage: messages.onMessage})
			pub := dialTest(t, nil)
			ctx := testContext(t)
			name := "conn:message:" + strconv.Itoa(proto) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36)
			require.NoError(t, c.Send(ctx, "SUBSCRIBE", name))
			require.NoError(t, c.Send(ctx, "PSUBSCRIBE", name+":p*"))
			require.NoError(t, c.Send(ctx, "SSUBSCRIBE", name+":s"))
			assert.Equal(t, [][]string{
				{"subscribe", name, "1"},
				{"psubscribe", name + ":p*", "2"},
				{"ssubscribe", name + ":s", "1"},
			}, pushes.all())

			large := strings.Repeat("x", readBufferSize+1)
			for _, cmd := range [][]string{
				{"PUBLISH", name, "one"},
				{"PUBLISH", name + ":p1", "two"},
				{"SPUBLISH", name + ":s", ""},
				{"PUBLISH", name, large},
				{"PUBLISH", name, "four"},
			} {
				_, err := pub.Do(ctx, cmd...)
				require.NoError(t, err)
			}
			want := [][]string{
				{"message", "", name, "one"},
				{"pmessage", name + ":p*", name + ":p1", "two"},
				{"smessage", "", name + ":s", ""},
				{"message", "", name, "four"},
			}
			require.Eventually(t, func() bool { return len(messages.all()) >= len(want) && len(pushes.all()) >= 4 },
				10*time.Second, time.Millisecond)
			assert.Equal(t, want, messages.all())
			assert.Equal(t, []string{"message", name, large}, pushes.all()[3], "too large for the buffer: OnPush's")
			assert.Len(t, pushes.all(), 4)
		})
	}
}

// A reply shaped like a message is the reply of its command, on RESP3
// (where messages are pushes) and on RESP2 outside subscribe mode.
func TestOnPubSubMessageLeavesReplies(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			var messages messageLog
			c := dialTest(t, &Options{Protocol: proto, OnPubSubMessage: messages.onMessage})
			ctx := testContext(t)
			key := "conn:message:list:" + strconv.Itoa(proto) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36)
			_, err := c.Do(ctx, "RPUSH", key, "message", "channel", "payload")
			require.NoError(t, err)
			defer c.Do(ctx, "DEL", key)
			for range 3 { // lent socket or not
				v, err := c.Do(ctx, "LRANGE", key, "0", "-1")
				require.NoError(t, err)
				require.Len(t, v.Elems(), 3)
				assert.Equal(t, "payload", text(t, v.Elems()[2]))
			}
			assert.Empty(t, messages.all())
		})
	}
}

// A Conn that hears messages never lends its socket to its callers, where
// messages would wait for one to read; a Conn that hears nothing does.
func TestOnPubSubMessageKeepsTheSocket(t *testing.T) {
	ctx := context.Background() // never ends: a caller may read for itself
	ping := func(c *Conn) uint64 {
		lendLong(c) // once lent, lent until the test ends
		for range 20 {
			_, err := c.Do(ctx, "PING")
			require.NoError(t, err)
		}
		return c.ownReads.Load()
	}
	plain := dialTest(t, nil)
	assert.NotZero(t, ping(plain), "callers of a Conn without push handlers read their replies themselves")
	assert.Zero(t, ping(dialTest(t, &Options{OnPubSubMessage: func(PubSubMessage) {}})))
}
