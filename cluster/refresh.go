package cluster

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/respwire/respwire/slots"
)

const (
	// refreshTimeout bounds one topology refresh started in the background.
	refreshTimeout = 10 * time.Second
	// minRefreshInterval spaces the refreshes that redirects and broken
	// connections trigger: a burst of MOVED replies costs one refresh.
	minRefreshInterval = 100 * time.Millisecond
	// loadingPollInterval is how often the topology is read again, with
	// ReadReplicas, while it reports some replica as loading: reads go to
	// that replica once it is reported online.
	loadingPollInterval = time.Second
	// DefaultRefreshInterval is the mean time between the steady-state
	// topology checks when Options.RefreshInterval is 0.
	DefaultRefreshInterval = 15 * time.Second
)

// jittered returns a wait drawn uniformly from [d/2, 3d/2), so that many
// clients started together don't check the topology in step.
func jittered(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

// flight is one topology refresh; everyone who asks for it shares it.
type flight struct {
	done chan struct{}
	topo *slots.Topology
	err  error
	// reason is why it started. RefreshSteady, the periodic check, asks
	// one node at a time rather than askAtOnce: nothing is known to be
	// wrong.
	reason RefreshReason
}

// Refresh reads the topology now and routes by it. The read starts after
// the call: when a refresh is already running, Refresh waits for the next
// one, which all calls made meanwhile share.
func (c *Client) Refresh(ctx context.Context) (*slots.Topology, error) {
	f, err := c.startRefresh(true, RefreshRequested)
	if err != nil {
		return nil, err
	}
	select {
	case <-f.done:
		return f.topo, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startRefresh starts a refresh, owned by the Client, or joins one: the
// running refresh, or with fresh the one queued to run after it. reason is
// why a refresh it starts (not one it joins) runs.
func (c *Client) startRefresh(fresh bool, reason RefreshReason) (*flight, error) {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	if c.stopped {
		return nil, errClosed
	}
	switch {
	case c.flight == nil:
		f := &flight{done: make(chan struct{}), reason: reason}
		c.flight = f
		c.goroutines.Go(func() { c.runRefresh(f) })
		return f, nil
	case !fresh:
		return c.flight, nil
	case c.queued == nil:
		c.queued = &flight{done: make(chan struct{}), reason: reason}
	}
	return c.queued, nil
}

// runRefresh reads the topology for f, routes by it, reports it (see
// Hooks.Refresh), then starts the queued refresh, if any. A refresh cut
// short because the Client is closing is not reported.
func (c *Client) runRefresh(f *flight) {
	ctx, cancel := context.WithTimeout(c.lifetime, refreshTimeout)
	defer cancel()
	atOnce := askAtOnce
	if f.reason == RefreshSteady {
		atOnce = 1
	}
	start := time.Now()
	f.topo, _, f.err = c.fetchTopology(ctx, c.refreshAddrs(), atOnce)
	var diff tableDiff
	if f.err == nil {
		diff = c.install(f.topo)
		c.chooseReplicas(ctx)
	}
	if c.lifetime.Err() == nil {
		c.refreshed(f.reason, time.Since(start), f.err, diff)
	}
	c.flightMu.Lock()
	next := c.queued
	c.flight, c.queued = next, nil
	switch {
	case next == nil:
	case c.stopped:
		c.flight = nil
		next.err = errClosed
		close(next.done)
	default:
		// Started while this goroutine still counts in c.goroutines, so
		// Close's Wait can't miss it.
		c.goroutines.Go(func() { c.runRefresh(next) })
	}
	c.flightMu.Unlock()
	close(f.done)
}

// triggerRefresh asks the refresh loop for a refresh, for reason, without
// waiting; many triggers while one is pending make one refresh, with the
// first one's reason.
func (c *Client) triggerRefresh(reason RefreshReason) {
	c.kickReason.CompareAndSwap(0, int32(reason))
	select {
	case c.refreshKick <- struct{}{}:
	default:
	}
}

// refreshLoop serves triggerRefresh, at most once per minRefreshInterval,
// refreshes every suspectInterval while some node is suspect, (with
// ReadReplicas) every loadingPollInterval while the table left out a loading
// replica, and otherwise checks the topology once per refresh interval
// (jittered, see jittered), until the Client closes. Whether to poll, and
// how soon, is decided after each refresh the loop runs; a table installed
// by Refresh is looked at after the next one.
func (c *Client) refreshLoop() {
	timer := time.NewTimer(minRefreshInterval)
	defer timer.Stop()
	wait := func() bool { // false: the Client is closing
		select {
		case <-timer.C:
			return true
		case <-c.lifetime.Done():
			return false
		}
	}
	for {
		var poll <-chan time.Time
		var reason RefreshReason
		switch {
		case c.hasSuspects():
			timer.Reset(suspectInterval)
			poll, reason = timer.C, RefreshSuspect
		case c.opts.ReadReplicas && c.table.Load().loadingReplicas:
			timer.Reset(loadingPollInterval)
			poll, reason = timer.C, RefreshLoading
		case c.refreshEvery > 0:
			timer.Reset(jittered(c.refreshEvery))
			poll, reason = timer.C, RefreshSteady
		}
		select {
		case <-c.refreshKick:
			reason = RefreshReason(c.kickReason.Swap(0))
			if reason == 0 {
				reason = RefreshRedirect
			}
		case <-poll:
		case <-c.lifetime.Done():
			return
		}
		f, err := c.startRefresh(false, reason)
		if err != nil {
			return
		}
		select {
		case <-f.done:
		case <-c.lifetime.Done():
			return
		}
		c.checkSuspects()
		timer.Reset(minRefreshInterval)
		if !wait() {
			return
		}
	}
}
