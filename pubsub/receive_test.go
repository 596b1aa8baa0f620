package pubsub

import (
	"testing"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A channel subscribed both by name and through a pattern gets both
// messages, and a callback of the user's in conn.Options takes neither.
func TestReceiveChannelAndPattern(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, proto int) {
		ctx := testContext(t)
		name := uniqueName("receive")
		s, err := New(ctx, redistest.Server().Addr, &conn.Options{
			ClientName:      name,
			Protocol:        proto,
			OnPubSubMessage: func(conn.PubSubMessage) { t.Error("the user's OnPubSubMessage was called") },
		})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Subscribe(ctx, name))
		require.NoError(t, s.PSubscribe(ctx, name+"*"))
		_, err = publisher(t, redistest.Server().Addr).Do(ctx, "PUBLISH", name, "hello")
		require.NoError(t, err)
		got := []Message{receive(t, s), receive(t, s)}
		assert.ElementsMatch(t, []Message{
			{Kind: KindMessage, Channel: name, Payload: "hello"},
			{Kind: KindPMessage, Pattern: name + "*", Channel: name, Payload: "hello"},
		}, got)
	})
}
