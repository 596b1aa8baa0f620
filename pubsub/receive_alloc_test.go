package pubsub

import (
	"bytes"
	"net"
	"runtime"
	"strconv"
	"testing"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/require"
)

// TestReceiveAllocations guards the promise: a received message
// costs at most one allocation, its payload. The channel or pattern is the
// string the user subscribed; a pmessage's channel, which nobody subscribed
// by name, shares the payload's allocation. Every message is published
// before the count starts, from a plain socket, so that the count is the
// Subscriber's alone.
func TestReceiveAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	const messages = 2000
	for _, tc := range []struct {
		name      string
		kind      Kind
		publish   string
		subscribe func(s *Subscriber, name string) error
		pattern   func(name string) string // "" unless a pattern matches
	}{
		{"channel", KindMessage, "PUBLISH", func(s *Subscriber, name string) error { return s.Subscribe(testContext(t), name) }, nil},
		{"pattern", KindPMessage, "PUBLISH", func(s *Subscriber, name string) error { return s.PSubscribe(testContext(t), name+"*") }, func(name string) string { return name + "*" }},
		{"shard", KindSMessage, "SPUBLISH", func(s *Subscriber, name string) error { return s.SSubscribe(testContext(t), name) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachProtocol(t, func(t *testing.T, proto int) {
				name := uniqueName("alloc")
				s, err := NewWithOptions(testContext(t), redistest.Server().Addr,
					&conn.Options{ClientName: name, Protocol: proto}, &Options{PingInterval: -1, MessageBuffer: messages + 1})
				require.NoError(t, err)
				defer s.Close()
				require.NoError(t, tc.subscribe(s, name))

				nc, err := net.Dial("tcp", redistest.Server().Addr)
				require.NoError(t, err)
				defer nc.Close()
				payloads := make([]string, messages+1) // the first one warms up
				var batch []byte
				for i := range payloads {
					payloads[i] = "payload-" + strconv.Itoa(i)
					batch = resp.AppendCommand(batch, tc.publish, name, payloads[i])
				}
				var pattern string
				if tc.pattern != nil {
					pattern = tc.pattern(name)
				}
				want := Message{Kind: tc.kind, Pattern: pattern, Channel: name}
				receive := func(i int) {
					want.Payload = payloads[i]
					if m := <-s.Messages(); m != want {
						t.Errorf("message %d is %+v, want %+v", i, m, want)
					}
				}
				first := bytes.Index(batch[1:], []byte("*")) + 1 // the second command
				_, err = nc.Write(batch[:first])
				require.NoError(t, err)
				receive(0)

				// Counted from before the publish: the Subscriber decodes
				// messages as they arrive, ahead of the reader here.
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err = nc.Write(batch[first:]) // the replies wait in the socket unread
				require.NoError(t, err)
				for i := 1; i <= messages; i++ {
					receive(i)
				}
				runtime.ReadMemStats(&after)
				perMessage := float64(after.Mallocs-before.Mallocs) / messages
				t.Logf("%.3f allocations per message", perMessage)
				// A few allocations that aren't the messages' (the
				// runtime's, the socket's) may fall in the count.
				require.LessOrEqual(t, perMessage, 1.02, "allocations per received message")
			})
		})
	}
}
