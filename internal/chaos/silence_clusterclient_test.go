package chaos

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A cluster client, every node reached through a fault proxy: the links
// open to one master go silent while new links pass (a load balancer that
// forgot its flows). With default options, the node's connection finds out
// by itself and is replaced: calls to that master's slots succeed again
// within about a second, and calls to another master never fail meanwhile.
func TestSilencedClusterMaster(t *testing.T) {
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

	masters := tc.Masters()
	silenced, other := masters[0], masters[1]
	prefix := "silence-master:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	hit := channelOwnedBy(t, ctx, tc, silenced, prefix+":hit")
	spared := channelOwnedBy(t, ctx, tc, other, prefix+":spared")
	for _, k := range []string{hit, spared} {
		_, err := cc.Do(ctx, "SET", k, "v")
		require.NoError(t, err)
	}

	// Load on the other master throughout, each call with a short deadline.
	var sparedOK, sparedFailed atomic.Int64
	var firstSparedErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				call, cancel := context.WithTimeout(ctx, time.Second)
				_, err := cc.Do(call, "GET", spared)
				cancel()
				if err != nil {
					sparedFailed.Add(1)
					firstSparedErr.CompareAndSwap(nil, err.Error())
					continue
				}
				sparedOK.Add(1)
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()

	silence := time.Now()
	proxies[silenced.Addr].Silence()
	okAtSilence := sparedOK.Load()
	var back time.Duration
	failedHit := 0
	for back == 0 {
		require.NoError(t, ctx.Err(), "no call to the silenced master's slot ever succeeded")
		call, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := cc.Do(call, "SET", hit, "after")
		cancel()
		if err != nil {
			failedHit++
			continue
		}
		back = time.Since(silence)
	}
	waitFor(t, ctx, "the other master's calls go on", func() bool { return sparedOK.Load() > okAtSilence+100 })
	t.Logf("fault=silence-cluster-master back=%v failed_calls_to_it=%d other_master_ok=%d other_master_failed=%d (first: %v)",
		back.Round(time.Millisecond), failedHit, sparedOK.Load(), sparedFailed.Load(), firstSparedErr.Load())
	// The target is 1 s with default options (0.5-0.6 s measured here); the
	// bound leaves room for a loaded machine.
	assert.Less(t, back, 5*time.Second, "calls to the silenced master succeed again (target: 1 s)")
	assert.Zero(t, sparedFailed.Load(), "calls to another master are unaffected")
	v, err := cc.Do(ctx, "GET", hit)
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "after", s)
}
