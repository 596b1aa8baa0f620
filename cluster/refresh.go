package cluster

import (
	"context"
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
)

// flight is one topology refresh; everyone who asks for it shares it.
type flight struct {
	done chan struct{}
	topo *slots.Topology
	err  error
}

// Refresh reads the topology now and routes by it. The read starts after
// the call: when a refresh is already running, Refresh waits for the next
// one, which all calls made meanwhile share.
func (c *Client) Refresh(ctx context.Context) (*slots.Topology, error) {
	f, err := c.startRefresh(true)
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
// running refresh, or with fresh the one queued to run after it.
func (c *Client) startRefresh(fresh bool) (*flight, error) {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	if c.stopped {
		return nil, errClosed
	}
	switch {
	case c.flight == nil:
		f := &flight{done: make(chan struct{})}
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
	f.topo, _, f.err = c.fetchTopology(ctx, c.refreshAddrs())
	if f.err == nil {
		c.install(f.topo)
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
// refreshes every suspectInterval while some node is suspect, and (with
// ReadReplicas) every loadingPollInterval while the table left out a loading
// replica, until the Client closes. Whether to poll is decided after each
// refresh the loop runs; a table installed by Refresh is looked at after the
// next one.
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
		switch {
		case c.hasSuspects():
			timer.Reset(suspectInterval)
			poll = timer.C
		case c.opts.ReadReplicas && c.table.Load().loadingReplicas:
			timer.Reset(loadingPollInterval)
			poll = timer.C
		}
		select {
		case <-c.refreshKick:
		case <-poll:
		case <-c.lifetime.Done():
			return
		}
		f, err := c.startRefresh(false)
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
