package pubsub

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/respwire/respwire/conn/sentinel"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSentinelSubscriberFollowsSwitch: a Subscriber on a Sentinel-managed
// master receives on a channel and a pattern, and after SENTINEL FAILOVER
// receives again from the new master, both subscriptions restored.
func TestSentinelSubscriberFollowsSwitch(t *testing.T) {
	ctx := testContext(t)
	d := redistest.NewSentinel(t, redistest.SentinelOptions{})
	c, err := sentinel.New(ctx, &sentinel.Options{MasterName: d.MasterName, Addrs: d.SentinelAddrs()})
	require.NoError(t, err)
	defer c.Close()
	s, err := NewSentinel(ctx, c)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Subscribe(ctx, "news"))
	require.NoError(t, s.PSubscribe(ctx, "alerts.*"))

	master, err := d.Master(ctx)
	require.NoError(t, err)
	receiveFrom(t, ctx, s, []*redistest.Node{master}, "news", KindMessage)
	receiveFrom(t, ctx, s, []*redistest.Node{master}, "alerts.fire", KindPMessage)

	// PUBLISH on a replica reaches only that replica's subscribers: a
	// message published on one of them arrives once the Subscriber is
	// there.
	var candidates []*redistest.Node
	for _, n := range d.Nodes {
		if n != master {
			candidates = append(candidates, n)
		}
	}
	start := time.Now()
	require.NoError(t, d.StartFailover(ctx))
	at, gaps := receiveFrom(t, ctx, s, candidates, "news", KindMessage)
	t.Logf("receiving from %s %v after SENTINEL FAILOVER", at, time.Since(start).Round(time.Millisecond))
	_, more := receiveFrom(t, ctx, s, []*redistest.Node{at}, "alerts.fire", KindPMessage)
	gaps = append(gaps, more...)
	// The switch closed the connection to the old master: the Subscriber
	// reports the time its subscriptions were down as a Gap.
	for len(gaps) == 0 {
		select {
		case m := <-s.Messages():
			if m.Kind == KindGap {
				gaps = append(gaps, m.Gap)
			}
		case <-ctx.Done():
			t.Fatal("no Gap reported after the switch")
		}
	}
	assert.ElementsMatch(t, []string{"news"}, gaps[0].Channels)
	assert.ElementsMatch(t, []string{"alerts.*"}, gaps[0].Patterns)
	assert.False(t, gaps[0].To.Before(gaps[0].From))
	t.Logf("gap of %v, cause: %v", gaps[0].To.Sub(gaps[0].From).Round(time.Millisecond), gaps[0].Cause)
	require.NoError(t, d.WaitSwitched(ctx, master))
	next, err := d.Master(ctx)
	require.NoError(t, err)
	assert.Equal(t, next, at)
	assert.Equal(t, next.Addr, c.MasterAddr())
}

// receiveFrom publishes numbered messages on channel at each of nodes,
// every 20 ms, until one of them arrives on s as kind, and returns the node
// it was published at, with the Gaps that came meanwhile. During a failover
// the sentinels close the clients of the nodes they reconfigure (CLIENT KILL
// TYPE normal), the publisher's own connection among them: a PUBLISH whose
// connection broke is published again in the next round, while an error
// reply fails the test.
func receiveFrom(t *testing.T, ctx context.Context, s *Subscriber, nodes []*redistest.Node, channel string, kind Kind) (*redistest.Node, []*Gap) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	sent := map[string]*redistest.Node{}
	var gaps []*Gap
	var lastErr error
	for i := 0; ; i++ {
		for _, n := range nodes {
			payload := n.Addr + "#" + strconv.Itoa(i)
			_, err := n.Do(ctx, "PUBLISH", channel, payload)
			var serverErr *resp.Error
			if errors.As(err, &serverErr) {
				require.NoError(t, err)
			}
			if err != nil {
				t.Logf("PUBLISH at %s failed, published again next round: %v", n, err)
				lastErr = err
				continue
			}
			sent[payload] = n
		}
		for {
			select {
			case m := <-s.Messages():
				if m.Kind == KindGap {
					gaps = append(gaps, m.Gap)
				}
				if n := sent[m.Payload]; m.Channel == channel && m.Kind == kind && n != nil {
					return n, gaps
				}
				continue
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("nothing published on %s at %v arrived (last failed PUBLISH: %v)", channel, nodes, lastErr)
			}
			break
		}
	}
}
