package chaos

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/faultproxy"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
	"github.com/respwire/respwire/slots"
)

// faultTimeout bounds one fault test, recovery included.
const faultTimeout = 90 * time.Second

// target is what a fault test loads and watches.
type target struct {
	doer Doer               // the load's client
	sub  *pubsub.Subscriber // shard-channel subscriber under test
	pub  Doer               // the publisher's client
}

// clusterTarget connects to the shared cluster and undoes the test's faults
// when it ends.
func clusterTarget(t *testing.T) target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := redistest.Cluster()
	redistest.Cluster().LogOnFailure(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, c.Reset(ctx), "restoring the shared cluster")
	})
	cc, err := cluster.New(ctx, &cluster.Options{Addrs: c.Addrs()})
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	sub, err := pubsub.NewCluster(ctx, cc)
	require.NoError(t, err)
	return target{doer: cc, sub: sub, pub: cc}
}

// runFault loads tg, waits for steady service, runs fault (which injects a
// fault and returns once it has been repaired), then checks that service
// and every subscription come back, that no call hung past its deadline and
// that no reply reached the wrong caller. It logs the one-line summary.
func runFault(t *testing.T, name string, tg target, fault func(ctx context.Context, l *Load) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
	defer cancel()

	l := NewLoad(tg.doer, LoadOptions{Workers: 8, Prefix: "chaos:" + name})
	watch, err := NewShardWatch(ctx, tg.sub, tg.pub, "chaos:"+name, 6)
	require.NoError(t, err)
	l.Start()
	stopped := false
	defer func() {
		if !stopped {
			l.Stop()
		}
		watch.Close()
	}()
	require.Eventually(t, func() bool { return l.Calls() > 300 }, 20*time.Second, 10*time.Millisecond,
		"the load never got going")
	require.NoError(t, watch.Resumed(ctx), "subscriptions before the fault")
	before := l.Stats(l.Mark())
	require.Zero(t, before.Failed, "calls failed before the fault: %v", before.Errors)

	mark := l.Mark()
	require.NoError(t, fault(ctx, l), "injecting and repairing %s", name)

	// Service is back once a second passes without a failed or slow call.
	require.Eventually(t, func() bool { return l.quietFor(time.Second) }, 30*time.Second, 20*time.Millisecond,
		"service did not recover: %v", l.Stats(mark).Errors)
	require.NoError(t, watch.Resumed(ctx), "subscriptions after the fault")

	stopped = true
	require.True(t, l.Stop(), "a worker was stuck in a call past its deadline")
	s := l.Stats(mark)
	pubs, recv := watch.Counts()
	t.Logf("%s pubsub=%d/%d", l.Summary(name, mark), recv, pubs)
	if len(s.Errors) > 0 {
		t.Logf("sample errors: %q", s.Errors)
	}
	require.Zero(t, s.Hangs, "calls returned later than deadline+grace")
	require.Zero(t, s.Crossed, "replies reached the wrong caller: %q", s.CrossedReplies)
	require.Positive(t, recv, "no shard message was received")
}

// slotOf is the slot of a key the load writes, so faults hit the load.
func slotOf(name string) int { return int(slots.Slot("chaos:" + name + ":w0:k0")) }

func TestKillMaster(t *testing.T) {
	tg := clusterTarget(t)
	c := redistest.Cluster()
	runFault(t, "kill-master", tg, func(ctx context.Context, l *Load) error {
		m, err := c.MasterOf(ctx, slotOf("kill-master"))
		if err != nil {
			return err
		}
		if err := m.Kill(); err != nil {
			return err
		}
		// The replica takes over after cluster-node-timeout; then the old
		// master comes back as its replica.
		if err := c.WaitHealthy(ctx); err != nil {
			return err
		}
		if err := m.Restart(ctx); err != nil {
			return err
		}
		return c.WaitHealthy(ctx)
	})
}

func TestFailover(t *testing.T) {
	tg := clusterTarget(t)
	c := redistest.Cluster()
	runFault(t, "failover", tg, func(ctx context.Context, l *Load) error {
		m, err := c.MasterOf(ctx, slotOf("failover"))
		if err != nil {
			return err
		}
		return c.Failover(ctx, m)
	})
}

func TestMigrateSlots(t *testing.T) {
	tg := clusterTarget(t)
	c := redistest.Cluster()
	runFault(t, "migrate", tg, func(ctx context.Context, l *Load) error {
		// The slots of a few of the load's keys go to another master and
		// back, three times.
		var moving []int
		for k := range 4 {
			moving = append(moving, int(slots.Slot(fmt.Sprintf("chaos:migrate:w%d:k%d", k, k))))
		}
		for range 3 {
			for _, slot := range moving {
				home, err := c.MasterOf(ctx, slot)
				if err != nil {
					return err
				}
				other := c.Masters()[0]
				if other.ID == home.ID {
					other = c.Masters()[1]
				}
				if err := c.MigrateSlot(ctx, slot, other); err != nil {
					return fmt.Errorf("slot %d to %s: %w", slot, other, err)
				}
				if err := c.MigrateSlot(ctx, slot, home); err != nil {
					return fmt.Errorf("slot %d back to %s: %w", slot, home, err)
				}
			}
		}
		return nil
	})
}

func TestClientKillEverywhere(t *testing.T) {
	tg := clusterTarget(t)
	c := redistest.Cluster()
	runFault(t, "client-kill", tg, func(ctx context.Context, l *Load) error {
		for _, kind := range []string{"normal", "pubsub", "normal"} {
			for _, n := range c.Nodes() {
				if _, err := n.Do(ctx, "CLIENT", "KILL", "TYPE", kind); err != nil {
					return fmt.Errorf("CLIENT KILL TYPE %s on %s: %w", kind, n, err)
				}
			}
		}
		return nil
	})
}

func TestDebugSleep(t *testing.T) {
	tg := clusterTarget(t)
	c := redistest.Cluster()
	runFault(t, "debug-sleep", tg, func(ctx context.Context, l *Load) error {
		m, err := c.MasterOf(ctx, slotOf("debug-sleep"))
		if err != nil {
			return err
		}
		// 1.5 s: longer than a call's deadline (1 s), shorter than
		// cluster-node-timeout (2 s), so the node is slow, not failed over.
		_, err = m.Do(ctx, "DEBUG", "SLEEP", "1.5")
		return err
	})
}

// TestBlackHole puts a standalone server behind the fault proxy and stalls
// every byte both ways. The shared cluster can't be routed through a proxy
// (its nodes announce their own addresses and the client follows them), so
// this fault uses conn.Client and a pubsub.New subscriber through the proxy;
// the publisher talks to the server directly.
func TestBlackHole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := redistest.Server()
	p, err := faultproxy.Start(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	client, err := conn.NewClient(ctx, p.Addr(), nil)
	require.NoError(t, err)
	defer client.Close()
	sub, err := pubsub.New(ctx, p.Addr(), nil)
	require.NoError(t, err)
	direct, err := conn.NewClient(ctx, srv.Addr, nil)
	require.NoError(t, err)
	defer direct.Close()

	runFault(t, "black-hole", target{doer: client, sub: sub, pub: direct}, func(ctx context.Context, l *Load) error {
		p.Stall()
		defer p.Unstall()
		// The hole lasts until enough calls have run into it.
		failedBefore := l.Stats(Mark{}).Failed
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for l.Stats(Mark{}).Failed < failedBefore+16 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
		return nil
	})
}
