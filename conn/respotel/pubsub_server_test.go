package respotel

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
)

// TestPubsubServerResubscribe: a Subscriber whose connection the server
// kills restores its subscription, which is counted, and the gap it may
// have left is counted with the loss's error.type.
func TestPubsubServerResubscribe(t *testing.T) {
	node := redistest.NewNode(t, redistest.NodeOptions{})
	r := newRecorded(t)
	ctx := testContext(t)
	s, err := pubsub.NewWithOptions(ctx, node.Addr, &conn.Options{Hooks: r.Hooks()}, &pubsub.Options{Hooks: r.PubsubHooks()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Subscribe(ctx, "respotel:news"))
	_, ok := r.lookup(t, "respwire.pubsub.resubscribes")
	require.False(t, ok, "nothing restored before a loss")

	_, err = node.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub")
	require.NoError(t, err)

	count := func(name string) (ok, failed int64) {
		m, found := r.lookup(t, name)
		if !found {
			return 0, 0
		}
		for _, p := range sumPoints(t, m) {
			if _, f := setMap(p.Attributes)["error.type"]; f {
				failed += p.Value
			} else {
				ok += p.Value
			}
		}
		return ok, failed
	}
	require.Eventually(t, func() bool {
		restored, _ := count("respwire.pubsub.resubscribes")
		return restored >= 1
	}, testTimeout, 5*time.Millisecond, "the restoring is counted")
	require.Eventually(t, func() bool {
		_, withCause := count("respwire.pubsub.gaps")
		return withCause >= 1
	}, testTimeout, 5*time.Millisecond, "the gap is counted, with why")

	host, port := serverAttrs(t, node.Addr)
	for _, p := range sumPoints(t, r.metric(t, "respwire.pubsub.resubscribes")) {
		attrs := setMap(p.Attributes)
		assert.Equal(t, host, attrs["server.address"])
		assert.Equal(t, port, attrs["server.port"])
	}
}
