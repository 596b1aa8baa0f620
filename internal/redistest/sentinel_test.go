package redistest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSentinelDeployment starts a deployment, fails it over with SENTINEL
// FAILOVER, then kills the new master and waits for the sentinels to
// replace it, and Reset brings the killed node back as a replica.
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
	info, err := killed.Info(ctx, "replication")
	require.NoError(t, err)
	require.Equal(t, "slave", info["role"])
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
