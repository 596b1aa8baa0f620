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
	// steady: the periodic check, which asks one node at a time rather
	// than askAtOnce: nothing is known to be wrong.
	steady bool
}

// Refresh reads the topology now and routes by it. The read starts after
// the call: when a refresh is already running, Refresh waits for the next
// one, which all calls made meanwhile share.
func (c *Client) Refresh(ctx context.Context) (*slots.Topology, error) {
	f, err := c.startRefresh(true, false)
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
// running refresh, or with fresh the one queued to run after it. steady
// marks a refresh it starts as the periodic check.
func (c *Client) startRefresh(fresh, steady bool) (*flight, error) {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	if c.stopped {
		return nil, errClosed
	}
	switch {
	case c.flight == nil:
		f := &flight{done: make(chan struct{}), steady: steady}
		c.flight = f
		c.goroutines.Go(func() { c.runRefresh(f) })
		return f, nil
	case !fresh:
		return c.flight, nil
	case c.queued == nil:
		c.queued = &flight{done: make(chan struct{})}
	}
	return c.queued, nil
}

// runRefresh reads the topology for f, routes by it, then starts the queued
// refresh, if any.
func (c *Client) runRefresh(f *flight) {
	ctx, cancel := context.WithTimeout(c.lifetime, refreshTimeout)
	defer cancel()
	atOnce := askAtOnce
	if f.steady {
		atOnce = 1
	}
	f.topo, _, f.err = c.fetchTopology(ctx, c.refreshAddrs(), atOnce)
	if f.err == nil {
		c.install(f.topo)
		c.chooseReplicas(ctx)
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

// triggerRefresh asks the refresh loop for a refresh, without waiting; many
// triggers while one is pending make one refresh.
func (c *Client) triggerRefresh() {
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
		steady := false
		switch {
		case c.hasSuspects():
			timer.Reset(suspectInterval)
			poll = timer.C
		case c.opts.ReadReplicas && c.table.Load().loadingReplicas:
			timer.Reset(loadingPollInterval)
			poll = timer.C
		case c.refreshEvery > 0:
			timer.Reset(jittered(c.refreshEvery))
			poll = timer.C
			steady = true
		}
		select {
		case <-c.refreshKick:
			steady = false
		case <-poll:
		case <-c.lifetime.Done():
			return
		}
		f, err := c.startRefresh(false, steady)
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
