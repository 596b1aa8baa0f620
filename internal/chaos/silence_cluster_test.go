package chaos

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/faultproxy"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
	"github.com/respwire/respwire/slots"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proxiedCluster starts a private 3-master cluster whose nodes announce the
// ports of fault proxies in front of them (cluster-announce-port), so that a
// cluster client, which follows the addresses the nodes announce, reaches
// every node through its proxy. It returns the cluster and the proxy of each
// node, by the node's own address.
func proxiedCluster(t *testing.T, ctx context.Context) (*redistest.TestCluster, map[string]*faultproxy.Proxy) {
	t.Helper()
	tc := redistest.NewCluster(t, redistest.ClusterOptions{Masters: 3, Replicas: -1})
	proxies := make(map[string]*faultproxy.Proxy)
	for _, n := range tc.Nodes() {
		p, err := faultproxy.Start(n.Addr)
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		proxies[n.Addr] = p
		_, port, _ := strings.Cut(p.Addr(), ":")
		_, err = n.Do(ctx, "CONFIG", "SET", "cluster-announce-port", port)
		require.NoError(t, err)
	}
	// Every node announces its proxy once gossip has spread the new ports.
	want := make(map[string]bool)
	for _, p := range proxies {
		want[p.Addr()] = true
	}
	waitFor(t, ctx, "every node routes through the proxies", func() bool {
		for _, n := range tc.Nodes() {
			v, err := n.Do(ctx, "CLUSTER", "SLOTS")
			if err != nil {
				return false
			}
			for _, r := range v.Elems() {
				e := r.Elems()
				if len(e) < 3 {
					return false
				}
				host, _ := e[2].Elems()[0].Text()
				port, _ := e[2].Elems()[1].Int()
				if !want[fmt.Sprintf("%s:%d", host, port)] {
					return false
				}
			}
		}
		return true
	})
	return tc, proxies
}

// A cluster Subscriber, every link through a fault proxy: the links open to
// one master go silent while new links pass. The shard channel of that
// master comes back, with a gap; a shard channel of another master never
// stops.
func TestSilencedClusterSubscriber(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tc, proxies := proxiedCluster(t, ctx)
	var seeds []string
	for _, p := range proxies {
		seeds = append(seeds, p.Addr())
	}
	cc, err := cluster.New(ctx, &cluster.Options{Addrs: seeds})
	require.NoError(t, err)
	defer cc.Close()
	sub, err := pubsub.NewCluster(ctx, cc)
	require.NoError(t, err)

	masters := tc.Masters()
	silenced, other := masters[0], masters[1]
	prefix := "silence:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	hit := channelOwnedBy(t, ctx, tc, silenced, prefix+":hit")
	spared := channelOwnedBy(t, ctx, tc, other, prefix+":spared")
	require.NoError(t, sub.SSubscribe(ctx, hit, spared))

	// Publish straight to the owners, around the proxies.
	publishers := map[string]*conn.Client{}
	for _, m := range []*redistest.Node{silenced, other} {
		c, err := conn.NewClient(ctx, m.Addr, nil)
		require.NoError(t, err)
		defer c.Close()
		publishers[m.Addr] = c
	}
	w := newSilenceWatch(sub, map[string]publishFunc{
		hit: func(ctx context.Context, payload string) error {
			_, err := publishers[silenced.Addr].Do(ctx, "SPUBLISH", hit, payload)
			return err
		},
		spared: func(ctx context.Context, payload string) error {
			_, err := publishers[other.Addr].Do(ctx, "SPUBLISH", spared, payload)
			return err
		},
	})
	defer func() {
		w.stopPublishing()
		sub.Close()
		w.wg.Wait()
	}()
	waitFor(t, ctx, "messages flow", func() bool {
		_, hitFlows := w.firstAfter(hit, time.Time{})
		_, sparedFlows := w.firstAfter(spared, time.Time{})
		return hitFlows && sparedFlows
	})

	silence := time.Now()
	proxies[silenced.Addr].Silence()
	waitFor(t, ctx, "a message published after the silence arrives", func() bool { _, ok := w.firstAfter(hit, silence); return ok })
	back, _ := w.firstAfter(hit, silence)
	waitFor(t, ctx, "a gap is reported", func() bool { _, _, ok := w.gapFor(hit); return ok })
	gap, gapAt, _ := w.gapFor(hit)
	t.Logf("fault=silence-cluster-subscriber back=%v gap_reported_after=%v gap=[%v, %v] cause=%v",
		back.Sub(silence).Round(time.Millisecond), gapAt.Sub(silence).Round(time.Millisecond),
		gap.From.Sub(silence).Round(time.Millisecond), gap.To.Sub(silence).Round(time.Millisecond), gap.Cause)
	assert.Less(t, back.Sub(silence), 5*time.Second, "delivery resumes within a few seconds (target: 2 s)")
	assert.False(t, gap.From.After(silence))
	assert.Contains(t, gap.Cause.Error(), "went silent")
	_, _, sparedGap := w.gapFor(spared)
	assert.False(t, sparedGap, "no gap for the other master's channel")
	sparedAt, ok := w.firstAfter(spared, silence)
	assert.True(t, ok && sparedAt.Before(back), "the other master's channel never stopped")
}

// channelOwnedBy returns a shard channel name starting with prefix whose
// slot master owns.
func channelOwnedBy(t *testing.T, ctx context.Context, tc *redistest.TestCluster, master *redistest.Node, prefix string) string {
	t.Helper()
	for i := 0; ; i++ {
		name := prefix + strconv.Itoa(i)
		owner, err := tc.MasterOf(ctx, int(slots.Slot(name)))
		require.NoError(t, err)
		if owner.Addr == master.Addr {
			return name
		}
	}
}
