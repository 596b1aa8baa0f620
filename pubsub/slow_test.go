package pubsub

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 20 item 6: backpressure can't beat the server's output limit. A
// Subscriber whose application stops reading Messages() falls behind until
// the server's client-output-buffer-limit for pubsub clients cuts it. The
// messages lost then are reported: a gap for the channel, after the last
// message that did arrive, with From no later than the first lost message's
// publication. The test logs how far the reader fell behind before the cut,
// for the package doc.
func TestSlowConsumerCutByServerGetsAGap(t *testing.T) {
	for _, tc := range []struct{ name, limit string }{
		{"default", "32mb 8mb 60"},
		{"1mb", "1mb 0 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			node := redistest.NewNode(t, redistest.NodeOptions{Config: []string{"client-output-buffer-limit pubsub " + tc.limit}})
			name := uniqueName("slow")
			s, err := New(ctx, node.Addr, &conn.Options{ClientName: name})
			require.NoError(t, err)
			defer s.Close()
			channel := name + ":ch"
			require.NoError(t, s.Subscribe(ctx, channel))
			id := subscriberID(t, node, name)
			pub := publisher(t, node.Addr)

			// Publish numbered 1 KiB messages, nobody reading, in batches,
			// until the server has cut the subscriber.
			const batch, size = 500, 1024
			filler := strings.Repeat("x", size)
			var batchStart []time.Time // of each batch
			published := 0
			for connected(t, node, id) {
				require.Less(t, published, 200_000, "the server never cut the subscriber")
				batchStart = append(batchStart, time.Now())
				cmds := make([][]string, batch)
				for i := range cmds {
					cmds[i] = []string{"PUBLISH", channel, strconv.Itoa(published+i) + ":" + filler}
				}
				_, err := pub.DoMulti(ctx, cmds...)
				require.NoError(t, err)
				published += batch
			}
			t.Logf("limit %q: cut after %d messages of %d B published (%.1f MiB) while nobody read", tc.limit, published, size, float64(published*size)/(1<<20))

			// Now read: a prefix of the messages, in order, then the gap.
			next := 0
			var gap *Gap
			for gap == nil {
				m := receive(t, s)
				if m.Kind == KindGap {
					gap = m.Gap
					break
				}
				n, _, _ := strings.Cut(m.Payload, ":")
				require.Equal(t, strconv.Itoa(next), n, "the messages before the cut arrive in order, none missing")
				next++
			}
			lost := published - next
			t.Logf("limit %q: %d delivered after the cut (held in Messages(), %d, and the socket buffers), %d lost (%.1f MiB) and reported",
				tc.limit, next, DefaultMessageBuffer, lost, float64(lost*size)/(1<<20))
			require.Positive(t, lost)
			assert.Equal(t, []string{channel}, gap.Channels)
			require.Less(t, next/batch+1, len(batchStart)+1)
			if end := next/batch + 1; end < len(batchStart) {
				assert.False(t, gap.From.After(batchStart[end]), "From %v is after the first lost message was published (by %v)", gap.From, batchStart[end])
			}
			assert.False(t, gap.To.Before(gap.From))
			assert.ErrorContains(t, gap.Cause, "lost")

			// And the channel is live again.
			publishUntil(t, s, pub, "PUBLISH", channel, "after the cut")
		})
	}
}

// subscriberID returns the id of the one connection named name on node.
func subscriberID(t testing.TB, node *redistest.Node, name string) int64 {
	t.Helper()
	clients, err := node.Clients(testContext(t))
	require.NoError(t, err)
	for _, c := range clients {
		if c.Name == name {
			return c.ID
		}
	}
	t.Fatalf("no connection named %s", name)
	return 0
}

// connected reports whether node still has the connection id.
func connected(t testing.TB, node *redistest.Node, id int64) bool {
	t.Helper()
	clients, err := node.Clients(testContext(t))
	require.NoError(t, err)
	for _, c := range clients {
		if c.ID == id {
			return true
		}
	}
	return false
}

// A reader that pauses for a few seconds, with fewer messages waiting than
// the server's output limit: the connection is kept (the PING answers queued
// behind the messages are no silence), every message arrives in order, and
// no gap is reported.
func TestPausedReaderKeepsItsConnection(t *testing.T) {
	ctx := testContext(t)
	node := redistest.Server()
	name := uniqueName("paused")
	s := newServerSubscriber(t, name)
	channel := name + ":ch"
	require.NoError(t, s.Subscribe(ctx, channel))
	id := subscriberID(t, node, name)
	pub := publisher(t, node.Addr)
	const n = 4 * DefaultMessageBuffer
	cmds := make([][]string, n)
	for i := range cmds {
		cmds[i] = []string{"PUBLISH", channel, strconv.Itoa(i)}
	}
	_, err := pub.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	eventually(t, "the buffer fills", func() bool { return len(s.Messages()) == DefaultMessageBuffer })
	// The reader pauses: several rounds of liveness checks pass meanwhile.
	time.Sleep(3 * (DefaultPingInterval + DefaultPingTimeout))
	for i := range n {
		m := receive(t, s)
		if m.Kind == KindGap {
			t.Fatalf("message %d is a gap: %v", i, m.Gap.Cause)
		}
		require.Equal(t, KindMessage, m.Kind)
		require.Equal(t, strconv.Itoa(i), m.Payload)
	}
	assert.Equal(t, id, subscriberID(t, node, name), "the same connection")
	assert.True(t, connected(t, node, id))
}
