package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/slots"
)

// loadResult counts the calls of runLoad's workers.
type loadResult struct {
	ok, failed atomic.Int64
	lastFail   atomic.Int64 // UnixNano of the last failure
	mu         sync.Mutex
	byKind     map[string]int // failures by kind
	firstErrs  []error
}

// errWrongValue is a GET that returned something else than was SET.
var errWrongValue = errors.New("wrong value")

func (r *loadResult) fail(err error) {
	r.failed.Add(1)
	r.lastFail.Store(time.Now().UnixNano())
	kind := "other"
	switch {
	case errors.Is(err, errWrongValue):
		kind = "wrong value"
	case errors.Is(err, context.DeadlineExceeded):
		kind = "deadline"
	case errors.Is(err, conn.ErrClosed):
		kind = "connection lost"
	}
	r.mu.Lock()
	if r.byKind == nil {
		r.byKind = make(map[string]int)
	}
	r.byKind[kind]++
	if len(r.firstErrs) < 3 || (kind == "other" && len(r.firstErrs) < 6) {
		r.firstErrs = append(r.firstErrs, err)
	}
	r.mu.Unlock()
}

// runLoad runs SET then GET (checking the value) from several goroutines,
// each over keys of its own, until stop is closed; wait returns once every
// worker has stopped. keys returns the key worker w uses on its i-th round.
// Every call has a deadline, so none can hang.
func runLoad(c *Client, workers int, keys func(w, i int) string, stop <-chan struct{}) (r *loadResult, wait func()) {
	r = &loadResult{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key, val := keys(w, i), strconv.Itoa(w)+":"+strconv.Itoa(i)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := c.Do(ctx, "SET", key, val)
				if err == nil {
					v, gerr := c.Do(ctx, "GET", key)
					got, _ := v.Text()
					switch {
					case gerr != nil:
						err = gerr
					case got != val:
						err = fmt.Errorf("%w: GET %s = %q, want %q", errWrongValue, key, got, val)
					}
				}
				cancel()
				if err != nil {
					r.fail(err)
				} else {
					r.ok.Add(1)
				}
			}
		})
	}
	return r, wg.Wait
}

// runBatchLoad is runLoad's batch worker: DoMulti of 20 SETs, then of the
// 20 GETs, over the keys of worker 100, checking every reply.
func runBatchLoad(c *Client, keys func(w, i int) string, stop <-chan struct{}) (r *loadResult, wait func()) {
	r = &loadResult{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			sets, gets := make([][]string, 20), make([][]string, 20)
			for j := range sets {
				key, val := keys(100, round*20+j), strconv.Itoa(round)
				sets[j], gets[j] = []string{"SET", key, val}, []string{"GET", key}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			replies, err := c.DoMulti(ctx, sets...)
			if err == nil {
				replies, err = c.DoMulti(ctx, gets...)
			}
			cancel()
			for j := 0; err == nil && j < len(replies); j++ {
				if got, _ := replies[j].Text(); got != sets[j][2] {
					err = fmt.Errorf("%w: GET %s = %v, want %q", errWrongValue, gets[j][1], replies[j], sets[j][2])
				}
			}
			if err != nil {
				r.fail(err)
			} else {
				r.ok.Add(1)
			}
		}
	})
	return r, wg.Wait
}

// TestReshardingUnderLoad moves slots back and forth between masters while
// workers write and read keys in them and everywhere else: no call may fail.
func TestReshardingUnderLoad(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 2*time.Minute)
	cl := redistest.Cluster()
	prefix := uniqueKey(t, "")
	// Half the keys fall in the slots that move, half anywhere.
	moving := []int{17, 5500, 11000, 16000}
	owners := make([]*redistest.Node, len(moving))
	for i, slot := range moving {
		var err error
		owners[i], err = cl.MasterOf(ctx, slot)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for i, slot := range moving {
			assert.NoError(t, cl.MigrateSlot(ctx, slot, owners[i]))
		}
	})
	tags := make([]string, len(moving))
	for i, slot := range moving {
		tags[i] = keyForSlot("", slot)
	}
	keys := func(w, i int) string {
		if i%2 == 0 {
			return tags[(i/2)%len(tags)] + prefix + strconv.Itoa(w) + ":" + strconv.Itoa(i%200)
		}
		return prefix + strconv.Itoa(w) + ":" + strconv.Itoa(i%2000)
	}

	stop := make(chan struct{})
	res, wait := runLoad(c, 8, keys, stop)
	batches, waitBatches := runBatchLoad(c, keys, stop)
	const rounds = 6
	for round := range rounds {
		for i, slot := range moving {
			to := otherMaster(t, owners[i])
			if round%2 == 1 {
				to = owners[i]
			}
			require.NoError(t, cl.MigrateSlot(ctx, slot, to))
		}
	}
	close(stop)
	wait()
	waitBatches()
	t.Logf("resharding: %d slots moved %d times under load: %d calls succeeded, %d failed; %d batches succeeded, %d failed",
		len(moving), rounds, res.ok.Load(), res.failed.Load(), batches.ok.Load(), batches.failed.Load())
	assert.Zero(t, res.failed.Load(), "failures: %v", res.firstErrs)
	assert.Positive(t, res.ok.Load())
	assert.Zero(t, batches.failed.Load(), "failures: %v", batches.firstErrs)
	assert.Positive(t, batches.ok.Load())
}

// TestFailoverUnderLoad kills a master while workers write: calls to its
// slots fail (or wait) until its replica takes over, then traffic resumes
// by itself. The killed node comes back as a replica afterwards.
func TestFailoverUnderLoad(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 2*time.Minute)
	cl := redistest.Cluster()
	prefix := uniqueKey(t, "")
	const victimSlot = 3000
	victim, err := cl.MasterOf(ctx, victimSlot)
	require.NoError(t, err)
	replica, err := cl.ReplicaOf(ctx, victim)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if !victim.Running() {
			assert.NoError(t, victim.Restart(ctx))
		}
		assert.NoError(t, cl.WaitHealthy(ctx))
	})
	tag := keyForSlot("", victimSlot)
	keys := func(w, i int) string {
		if i%2 == 0 {
			return tag + prefix + strconv.Itoa(w) + ":" + strconv.Itoa(i%100)
		}
		return prefix + strconv.Itoa(w) + ":" + strconv.Itoa(i%1000)
	}

	stop := make(chan struct{})
	res, wait := runLoad(c, 8, keys, stop)
	require.Eventually(t, func() bool { return res.ok.Load() > 200 }, 30*time.Second, time.Millisecond)
	killedAt := time.Now()
	require.NoError(t, victim.Kill())

	// Wait until the victim's slot is served by the replica and calls to it
	// succeed again, through the client under test. Meanwhile note when the
	// cluster itself promoted the replica.
	var resumedAt, promotedAt time.Time
	require.Eventually(t, func() bool {
		if promotedAt.IsZero() {
			if m, err := cl.MasterOf(ctx, victimSlot); err == nil && m == replica {
				promotedAt = time.Now()
			}
		}
		probe, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := c.Do(probe, "SET", tag+prefix+"probe", "v")
		if err != nil {
			return false
		}
		resumedAt = time.Now()
		return true
	}, 60*time.Second, 10*time.Millisecond)
	okAtResume := res.ok.Load()
	require.Eventually(t, func() bool { return res.ok.Load() > okAtResume+200 }, 30*time.Second, time.Millisecond,
		"traffic resumes after the failover")
	close(stop)
	wait()

	sh, ok := c.Topology().ShardFor(victimSlot)
	require.True(t, ok)
	assert.Equal(t, replica.Addr, sh.Master.Addr, "the client routes to the promoted replica")
	// The dead node is out of the routing, so the client stops polling.
	require.Eventually(t, func() bool { return !c.hasSuspects() }, 10*time.Second, 10*time.Millisecond)
	lastFail := time.Unix(0, res.lastFail.Load())
	t.Logf("failover: the cluster promoted the replica %v after the kill; writes through the client resumed %v after it; last failed call %v after it; %d calls succeeded, %d failed %v (first errors: %v)",
		promotedAt.Sub(killedAt).Round(time.Millisecond), resumedAt.Sub(killedAt).Round(time.Millisecond), lastFail.Sub(killedAt).Round(time.Millisecond),
		res.ok.Load(), res.failed.Load(), res.byKind, res.firstErrs)
	assert.Positive(t, res.ok.Load())
	assert.Zero(t, res.byKind["wrong value"], "every value read back is the one written")
	assert.Zero(t, res.byKind["other"], "calls fail only by losing their connection or their time")

	// The old master comes back as a replica of the new one. (This is what
	// using the shared cluster costs, against starting a private one.)
	restartAt := time.Now()
	require.NoError(t, victim.Restart(ctx))
	require.NoError(t, cl.WaitHealthy(ctx))
	t.Logf("failover: restarting the killed node and waiting for a healthy cluster took %v", time.Since(restartAt).Round(time.Millisecond))
	_, err = c.Do(ctx, "SET", tag+prefix+"after", "v")
	require.NoError(t, err)
}

// TestPausedNode stops a master's process briefly (well under the cluster's
// node timeout, so no failover starts): calls to its slots end at their
// deadline, calls to the other masters are unaffected.
func TestPausedNode(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	cl := redistest.Cluster()
	const pausedSlot, otherSlot = 100, 15000
	paused, err := cl.MasterOf(ctx, pausedSlot)
	require.NoError(t, err)
	other, err := cl.MasterOf(ctx, otherSlot)
	require.NoError(t, err)
	require.NotEqual(t, paused, other)
	pausedKey, otherKey := keyForSlot(uniqueKey(t, "p"), pausedSlot), keyForSlot(uniqueKey(t, "o"), otherSlot)
	for _, k := range []string{pausedKey, otherKey} {
		_, err := c.Do(ctx, "SET", k, "v")
		require.NoError(t, err)
	}

	require.NoError(t, paused.Pause())
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			assert.NoError(t, paused.Resume())
		}
	}
	defer resume()

	var wg sync.WaitGroup
	var pausedErr error
	var pausedTook time.Duration
	wg.Go(func() {
		call, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, pausedErr = c.Do(call, "GET", pausedKey)
		pausedTook = time.Since(start)
	})
	for range 20 {
		call, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		v, err := c.Do(call, "GET", otherKey)
		cancel()
		require.NoError(t, err, "a call to another node is unaffected")
		s, _ := v.Text()
		assert.Equal(t, "v", s)
	}
	wg.Wait()
	resume()
	require.ErrorIs(t, pausedErr, context.DeadlineExceeded)
	assert.Contains(t, pausedErr.Error(), paused.Addr, "the error names the node that didn't answer")
	assert.Less(t, pausedTook, 2*time.Second, "the call ended near its deadline")

	// Once resumed, the node serves again on the same client.
	v, err := c.Do(ctx, "GET", pausedKey)
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "v", s)
	require.Equal(t, slots.NumSlots, c.Topology().Covered())
}

// TestPublishAfterFailover: a master is killed and failed over while the
// client holds a connection to it. Neither a call already waiting for the
// dead node nor one made after the failover may wait for it to come back:
// the client notices that the node's connection is down, reads the topology
// again and sends the calls to the new master promptly.
func TestPublishAfterFailover(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 2*time.Minute)
	cl := redistest.Cluster()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		assert.NoError(t, cl.Reset(ctx))
	})
	channel := uniqueKey(t, "ch")
	slot := int(slots.Slot(channel))
	victim, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	replica, err := cl.ReplicaOf(ctx, victim)
	require.NoError(t, err)
	_, err = c.Do(ctx, "SPUBLISH", channel, "before") // the client now has a connection to the victim
	require.NoError(t, err)
	victimClient := c.nodes.get(victim.Addr).client.Load()
	require.NotNil(t, victimClient)

	require.NoError(t, victim.Kill())
	require.Eventually(t, func() bool { return !victimClient.Connected() }, 10*time.Second, time.Millisecond,
		"the client sees the connection drop")
	waiting := make(chan error, 1)
	go func() {
		call, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := c.Do(call, "SPUBLISH", channel, "during")
		waiting <- err
	}()
	require.NoError(t, cl.Failover(ctx, victim))
	failedOver := time.Now()

	call, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err = c.Do(call, "SPUBLISH", channel, "after")
	took := time.Since(failedOver)
	require.NoError(t, err)
	t.Logf("SPUBLISH after the failover took %v", took.Round(time.Millisecond))
	assert.Less(t, took, 2*time.Second, "SPUBLISH waited for the dead master")
	var waitErr error
	select {
	case waitErr = <-waiting:
	case <-time.After(time.Until(failedOver.Add(2 * time.Second))):
		select {
		case waitErr = <-waiting:
		default:
			t.Fatal("the call made during the outage still waits for the dead master")
		}
	}
	require.NoError(t, waitErr, "the call made during the outage")
	sh, ok := c.Topology().ShardFor(uint16(slot))
	require.True(t, ok)
	assert.Equal(t, replica.Addr, sh.Master.Addr, "the client routes to the promoted replica")
}
