package pubsub

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/respwire/respwire/internal/faultproxy"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 19 item 7: a shared connection is dialled with the Subscriber's
// lifetime, not with the context of the call that happened to need it first.
// Behind 30 ms of latency each way, caller A (40 ms deadline) creates the
// shard connection and gives up while its handshake is under way; caller B,
// 5 ms later with 10 s, waits for the same connection and succeeds.
func TestSharedDialOutlivesFirstCaller(t *testing.T) {
	ctx := testContext(t)
	node := redistest.Server()
	p, err := faultproxy.Start(node.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := uniqueName("dial")
	s, err := New(ctx, p.Addr(), nil)
	require.NoError(t, err)
	defer s.Close()
	p.SetLatency(30 * time.Millisecond)

	errA := make(chan error, 1)
	go func() {
		ctxA, cancel := context.WithTimeout(ctx, 40*time.Millisecond)
		defer cancel()
		errA <- s.SSubscribe(ctxA, name+":a")
	}()
	// B comes while A's dial is under way (5 ms after A, in the issue).
	eventually(t, "A is dialling the shard connection", func() bool { return len(s.nodeLinks()) == 1 })
	ctxB, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, s.SSubscribe(ctxB, name+":b"), "B waits for the connection A started")

	err = <-errA
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, strings.Count(err.Error(), "pubsub:"), "one package prefix: %v", err)
	assert.Contains(t, err.Error(), "pubsub: SSUBSCRIBE: connect to "+p.Addr())

	p.SetLatency(0)
	pub := publisher(t, node.Addr)
	assert.Equal(t, name+":b", publishUntil(t, s, pub, "SPUBLISH", name+":b", "hello").Channel)
	eventually(t, "A's channel is not subscribed", func() bool { return numsub(t, node, "SHARDNUMSUB", name+":a") == 0 })
}
