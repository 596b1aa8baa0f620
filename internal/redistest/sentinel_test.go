package redistest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSentinelDeployment starts a deployment, fails it over with SENTINEL
// FAILOVER, then kills the new master and waits for the sentinels to
// replace it, and Reset brings the killed node back as a replica (or as the
// master, when a sentinel logged a second failover to it).
func TestSentinelDeployment(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	s := NewSentinel(t, SentinelOptions{})
	t.Logf("deployment ready in %v", time.Since(start).Round(time.Millisecond))

	first, err := s.Master(ctx)
	require.NoError(t, err)
	require.Equal(t, s.Nodes[0], first)
	role, err := first.Do(ctx, "ROLE")
	require.NoError(t, err)
	kind, _ := role.Elems()[0].Text()
	require.Equal(t, "master", kind)

	start = time.Now()
	second, err := s.Failover(ctx)
	require.NoError(t, err)
	require.NotEqual(t, first, second)
	t.Logf("SENTINEL FAILOVER to %s, healthy after %v", second, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	killed, err := s.KillMaster(ctx)
	require.NoError(t, err)
	require.Equal(t, second, killed)
	require.NoError(t, s.WaitSwitched(ctx, killed))
	third, err := s.Master(ctx)
	require.NoError(t, err)
	require.NotEqual(t, killed, third)
	t.Logf("master killed, replaced by %s after %v", third, time.Since(start).Round(time.Millisecond))

	require.NoError(t, s.Reset(ctx))
	require.True(t, killed.Running())
	// On a loaded machine the master can stall past DownAfter (forking to
	// sync the restarted node) and the sentinels fail over again, maybe to
	// the node Reset brought back: so ask the sentinels who the master is
	// until the killed node's role agrees with them.
	var now *Node
	require.NoError(t, poll(ctx, func(ctx context.Context) error {
		var err error
		if now, err = s.Master(ctx); err != nil {
			return err
		}
		info, err := killed.Info(ctx, "replication")
		if err != nil {
			return err
		}
		want := "slave"
		if now == killed {
			want = "master"
		}
		if info["role"] != want {
			return fmt.Errorf("%s is a %s, want %s with %s the master", killed, info["role"], want, now)
		}
		if want == "slave" && (info["master_port"] != strconv.Itoa(now.Port) || info["master_link_status"] != "up") {
			return fmt.Errorf("%s replicates %s:%s (link %s), want %s", killed,
				info["master_host"], info["master_port"], info["master_link_status"], now)
		}
		return nil
	}))
	if now == killed {
		// It was the master once already, after SENTINEL FAILOVER.
		switched := regexp.MustCompile(fmt.Sprintf(`\+switch-master %s 127\.0\.0\.1 \d+ 127\.0\.0\.1 %d\b`,
			regexp.QuoteMeta(s.MasterName), killed.Port))
		require.True(t, slices.ContainsFunc(s.Sentinels, func(sn *Node) bool {
			return len(switched.FindAllString(sn.LogTail(1<<20), -1)) >= 2
		}), "%s is the master again, but no sentinel logged a second switch to it", killed)
		t.Logf("the sentinels failed over again after Reset, to %s", killed)
	}
}

// TestFailoverAfterAbort: the replicas are stopped when SENTINEL FAILOVER
// comes, so the sentinel's SLAVEOF NO ONE goes unanswered and it gives the
// failover up after failover-timeout (-failover-abort-slave-timeout), as a
// loaded machine can make it do. Once they run again, Failover starts
// another and returns the new master.
func TestFailoverAfterAbort(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s := NewSentinel(t, SentinelOptions{})
	first, err := s.Master(ctx)
	require.NoError(t, err)
	for _, n := range s.Nodes[1:] {
		require.NoError(t, n.Pause())
	}
	resumed := make(chan error, 1)
	go func() {
		// Resume once the sentinel has given the first attempt up.
		err := poll(ctx, func(context.Context) error {
			if !strings.Contains(s.Sentinels[0].LogTail(4096), "-failover-abort-slave-timeout") {
				return errors.New("no failover given up yet")
			}
			return nil
		})
		for _, n := range s.Nodes[1:] {
			err = errors.Join(err, n.Resume())
		}
		resumed <- err
	}()
	second, err := s.Failover(ctx)
	require.NoError(t, <-resumed)
	require.NoError(t, err)
	require.NotEqual(t, first, second)
}
