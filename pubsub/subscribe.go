package pubsub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/backoff"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// maxAttempts bounds how often one call routes its subscriptions again after
// a redirect or a lost connection.
const maxAttempts = 16

// group is the subscriptions one command carries: for shard channels, the
// ones of one slot (SSUBSCRIBE refuses channels of several slots).
type group struct {
	addr string
	keys []subKey
}

// attachMode says which keys a subscribe attempt takes.
type attachMode uint8

const (
	attachUser   attachMode = iota // a user's call: every key becomes wanted
	attachRetry                    // the same call, again: keys still wanted
	attachRepair                   // the repair worker: keys waiting in orphans
)

// subscribe subscribes keys, all of space sp, and returns once the servers
// confirmed them. When a server redirects (the slot moved) or a connection
// goes away mid-call, the keys still wanted are routed again, against a fresh
// topology in a cluster. If it fails, the keys this call claimed are wanted
// no more unless another call claims them (see settle); keys wanted before
// are left to the repair worker, which passes a tally of what it restored
// (nil for a user's call).
func (s *Subscriber) subscribe(ctx context.Context, sp space, names []string, mode attachMode, tally *restoreTally) error {
	pending := make([]subKey, 0, len(names))
	for _, name := range names {
		pending = append(pending, subKey{space: sp, name: name})
	}
	cmd := spaceCommands[sp].subscribe
	var claimed []subKey
	var why error // why keys were routed again, last time
	for attempt := 0; len(pending) > 0; attempt++ {
		var err error
		if attempt == maxAttempts {
			err = fmt.Errorf("pubsub: %s: still routed again after %d attempts: %w", cmd, maxAttempts, why)
		} else if attempt > 0 {
			err = s.reroutePause(ctx, attempt)
			if err != nil && !errors.Is(err, ErrClosed) {
				err = fmt.Errorf("pubsub: %s: %w (while routing again after: %w)", cmd, err, why)
			}
		}
		var groups []group
		if err == nil {
			groups, err = s.route(sp, pending)
		}
		results := make([]groupResult, len(groups))
		inParallel(len(groups), func(i int) {
			r := &results[i]
			r.retry, r.claimed, r.why, r.err = s.subscribeGroup(ctx, sp, groups[i], mode, tally)
		})
		var again []subKey
		for _, r := range results {
			claimed = append(claimed, r.claimed...)
			again = append(again, r.retry...)
			if r.why != nil {
				why = r.why
			}
			if err == nil {
				err = r.err
			}
		}
		if err != nil {
			if len(groups) == 0 {
				tally.failed("", err) // no node to name
			}
			s.settle(claimed, pending)
			return err
		}
		pending = again
		mode = attachRetry // the keys held now are this call's, wherever they came from
	}
	s.mu.Lock()
	for _, key := range claimed {
		delete(s.tentative, key) // wanted by a call that succeeded
	}
	s.mu.Unlock()
	return nil
}

// subscribeGroup sends one subscribe command for g. It returns the keys to
// route again (redirected, or their connection went away, or the call
// failed) and why, and the keys it claimed (see attachLocked). It counts
// the keys it subscribed, or its error, in tally.
func (s *Subscriber) subscribeGroup(ctx context.Context, sp space, g group, mode attachMode, tally *restoreTally) (retry, claimed []subKey, why, err error) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, nil, nil, ErrClosed
	}
	l, created := s.linkLocked(sp, g.addr)
	send, claimed, closeNow := s.attachLocked(l, g.keys, mode)
	switch {
	case created && len(send) == 0:
		s.detachLocked(l) // not dialled: nothing to close
	case created:
		s.startDialLocked(l)
	}
	s.mu.Unlock()
	s.retire(ctx, closeNow)
	if len(send) == 0 {
		return nil, claimed, nil, nil
	}

	c, err := l.wait(ctx)
	dialFailed := err != nil && ctx.Err() == nil
	if err == nil {
		sent := time.Now()
		err = c.Send(ctx, command(spaceCommands[sp].subscribe, send)...)
		if err == nil {
			l.live.mark(sent)
			s.mu.Lock()
			s.subscribedLocked(l, send, sent)
			s.liveLocked(l, send, time.Now())
			s.mu.Unlock()
			tally.restored(l.addr, sp, len(send))
			return nil, claimed, nil, nil
		}
	}
	// Given up while the command may be on its way: the server may confirm
	// the keys, or may have already. Whichever of them the user does not
	// want on l by the time the repair worker looks are unsubscribed there.
	maybeHeld := c != nil && ctx.Err() != nil && !errors.Is(err, conn.ErrClosed)
	// The keys are the caller's to route again or to settle.
	s.mu.Lock()
	if maybeHeld {
		for _, key := range send {
			s.strays = append(s.strays, stray{link: l, key: key})
		}
		s.wakeRepair()
	}
	c = s.orphanLocked(l, send, false)
	closing := s.closing
	s.mu.Unlock()
	if c != nil {
		s.retire(ctx, []*conn.Conn{c})
	}
	switch {
	case closing:
		return send, claimed, nil, ErrClosed
	case isRedirect(err) || errors.Is(err, conn.ErrClosed) || (dialFailed && s.cluster != nil):
		// The slot lives elsewhere now, the connection was lost or
		// retired under us, or a node failed: route these keys again.
		return send, claimed, err, nil
	default:
		err = fmt.Errorf("pubsub: %s: %w", spaceCommands[sp].subscribe, err)
		tally.failed(g.addr, err)
		return send, claimed, nil, err
	}
}

// unsubscribe drops keys of space sp, or every key of sp if names is empty,
// and returns once the servers confirmed it. A shard link left without
// channels is closed instead of sent SUNSUBSCRIBE. Unsubscribing something
// not subscribed, or from a connection that is going away, is not an error.
func (s *Subscriber) unsubscribe(ctx context.Context, sp space, names []string) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	var keys []subKey
	if len(names) == 0 {
		for key := range s.want {
			if key.space == sp {
				keys = append(keys, key)
			}
		}
	} else {
		for _, name := range names {
			keys = append(keys, subKey{space: sp, name: name})
		}
	}
	send, closeNow := s.unwantLocked(keys)
	s.mu.Unlock()
	s.retire(ctx, closeNow)

	type sendTo struct {
		link *link
		keys []subKey
	}
	var sends []sendTo
	for l, keys := range send {
		for _, g := range groupBySlot(l.addr, keys) {
			sends = append(sends, sendTo{l, g.keys})
		}
	}
	errs := make([]error, len(sends))
	inParallel(len(sends), func(i int) {
		c, err := sends[i].link.wait(ctx)
		if err != nil {
			if ctx.Err() != nil {
				errs[i] = err
			}
			return // the dial failed: nothing was subscribed there
		}
		err = c.Send(ctx, command(spaceCommands[sp].unsubscribe, sends[i].keys)...)
		if err != nil && !isRedirect(err) && !errors.Is(err, conn.ErrClosed) {
			// A redirect means the node owns the slot no more and has
			// dropped its channels already; a closed connection holds no
			// subscription.
			errs[i] = fmt.Errorf("pubsub: %s: %w", spaceCommands[sp].unsubscribe, err)
		}
		if err != nil && ctx.Err() != nil {
			// Given up with the command maybe unsent: the repair worker
			// finishes the job.
			s.mu.Lock()
			for _, key := range sends[i].keys {
				s.strays = append(s.strays, stray{link: sends[i].link, key: key})
			}
			s.wakeRepair()
			s.mu.Unlock()
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// groupResult is what subscribeGroup returned for one group.
type groupResult struct {
	retry, claimed []subKey
	why, err       error
}

// maxParallel bounds the commands one call has in flight at once: groups of
// different slots are sent concurrently, and pipelined on each connection.
const maxParallel = 64

// inParallel runs fn(0) … fn(n-1), up to maxParallel at a time, and returns
// when all have.
func inParallel(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	tokens := make(chan struct{}, maxParallel)
	for i := range n {
		tokens <- struct{}{}
		wg.Go(func() {
			defer func() { <-tokens }()
			fn(i)
		})
	}
	wg.Wait()
}

// route splits keys into the groups to send: one for channels or patterns,
// one per slot for shard channels, each with the address it goes to.
func (s *Subscriber) route(sp space, keys []subKey) ([]group, error) {
	if sp != spaceShard {
		return []group{{addr: s.globalAddr(), keys: keys}}, nil
	}
	if s.cluster == nil {
		return groupBySlot(s.addr, keys), nil
	}
	topo := s.cluster.Topology()
	groups := groupBySlot("", keys)
	for i := range groups {
		slot := slots.Slot(groups[i].keys[0].name)
		shard, ok := topo.ShardFor(slot)
		if !ok {
			return nil, fmt.Errorf("pubsub: no node serves slot %d", slot)
		}
		groups[i].addr = shard.Master.Addr
	}
	return groups, nil
}

// globalAddr picks the node for the channel and pattern connection. Any node
// of a cluster delivers every PUBLISH; after a failure the next one is tried.
func (s *Subscriber) globalAddr() string {
	if s.cluster == nil {
		return s.addr
	}
	s.mu.Lock()
	if s.global != nil {
		s.mu.Unlock()
		return s.global.addr
	}
	turn := s.globalTurn
	s.mu.Unlock()
	addrs := s.cluster.Topology().Addrs()
	if len(addrs) == 0 {
		return ""
	}
	return addrs[turn%len(addrs)]
}

// groupBySlot splits keys into one group per slot, in slot order, all for addr.
func groupBySlot(addr string, keys []subKey) []group {
	if len(keys) == 0 {
		return nil
	}
	if keys[0].space != spaceShard {
		return []group{{addr: addr, keys: keys}}
	}
	bySlot := make(map[uint16][]subKey)
	for _, key := range keys {
		slot := slots.Slot(key.name)
		bySlot[slot] = append(bySlot[slot], key)
	}
	order := make([]uint16, 0, len(bySlot))
	for slot := range bySlot {
		order = append(order, slot)
	}
	slices.Sort(order)
	groups := make([]group, 0, len(order))
	for _, slot := range order {
		groups = append(groups, group{addr: addr, keys: bySlot[slot]})
	}
	return groups
}

// reroutePause waits a little before routing again, and re-reads a cluster's
// topology, since a redirect or a lost node means it changed.
func (s *Subscriber) reroutePause(ctx context.Context, attempt int) error {
	if err := s.sleep(ctx, retryBackoff.Delay(attempt)); err != nil {
		return err
	}
	if s.cluster == nil {
		return nil
	}
	if _, err := s.cluster.Refresh(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	return nil // a failed refresh leaves the old topology; the next attempt tells
}

// sleep waits for d, or until ctx ends or the Subscriber closes.
func (s *Subscriber) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}

// settle ends a failed subscribe, leaving things as they were before it:
// the keys it claimed and no other call claims are wanted no more, wherever
// they got to (a server may hold some, confirmed in a group that succeeded
// or just before the call gave up: the repair worker unsubscribes those);
// a key another call in flight still claims is that call's to keep or take
// back. The keys it held that are still wanted (before it, by a call that
// succeeded or by one in flight) go to the repair worker.
func (s *Subscriber) settle(claimed, held []subKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range claimed {
		n, tentative := s.tentative[key]
		switch {
		case !tentative:
			continue // a call that wanted it succeeded, or it was unsubscribed
		case n > 1:
			s.tentative[key] = n - 1
			continue
		}
		delete(s.tentative, key)
		owner, wanted := s.want[key]
		if !wanted {
			continue
		}
		delete(s.want, key)
		s.wanted.remove(key)
		delete(s.orphans, key)
		delete(s.lost, key)
		s.wakeRepair() // for strays that waited for this decision
		if owner != nil {
			delete(owner.members, key)
			s.strays = append(s.strays, stray{link: owner, key: key})
			if c := s.retireIfEmptyLocked(owner); c != nil {
				s.toRetire = append(s.toRetire, c)
			}
		}
	}
	for _, key := range held {
		if owner, wanted := s.want[key]; wanted && owner == nil {
			s.orphans[key] = struct{}{}
			s.wakeRepair()
		}
	}
}

// command returns the arguments of cmd followed by the names of keys.
func command(cmd string, keys []subKey) []string {
	args := make([]string, 0, 1+len(keys))
	args = append(args, cmd)
	for _, key := range keys {
		args = append(args, key.name)
	}
	return args
}

// isRedirect reports whether err is a cluster's answer that the slot is
// served elsewhere or is moving: the command is worth routing again.
func isRedirect(err error) bool {
	var re *resp.Error
	if !errors.As(err, &re) {
		return false
	}
	switch re.Code {
	case "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN":
		return true
	}
	return false
}

// retryBackoff paces the routes again of one call and the repair worker's
// rounds: 10 ms doubling to 1 s, with jitter.
var retryBackoff = backoff.Policy{Min: 10 * time.Millisecond, Max: time.Second}
