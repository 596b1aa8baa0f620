package pubsub

import (
	"context"
	"fmt"
	"time"
)

// stray is a subscription a server confirmed on a link without the user
// wanting it there (a subscribe crossed an unsubscribe of the same name), or
// may hold there without the user wanting it (a subscribe call gave up
// after writing its command).
type stray struct {
	link *link
	key  subKey
}

// repairLoop is the Subscriber's one background goroutine (besides one
// watcher and one pinger per connection). It brings the servers back in line
// with what the user wants: it subscribes orphans again (after a lost
// connection, or a subscription the server dropped on its own), unsubscribes
// strays, and closes links that emptied on a reader goroutine. Failures are
// retried with backoff until they succeed or Close. It also delivers the
// gaps, those queued at once merged into one, without holding up the repairs
// while Messages() is full.
func (s *Subscriber) repairLoop() {
	defer s.wg.Done()
	failures := 0
	var retry *time.Timer // while failures > 0
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	var gap *Gap // taken from the queue, waiting for room in Messages()
	for {
		var retryAt <-chan time.Time
		if retry != nil {
			retryAt = retry.C
		}
		if gap == nil {
			if gap = s.takeGaps(); gap != nil && s.observed() {
				s.reportGap(gap)
			}
		}
		var out chan<- Message
		if gap != nil {
			out = s.messages
		}
		select {
		case out <- Message{Kind: KindGap, Gap: gap}:
			gap = nil
			continue
		case <-s.wake:
			if failures > 0 {
				continue // the retry comes soon, and sees this too
			}
		case <-retryAt:
			retry = nil
		case <-s.done:
			s.closeRetired()
			return
		}
		if s.repair(s.life) {
			failures = 0
			continue
		}
		failures++
		retry = time.NewTimer(retryBackoff.Delay(failures))
	}
}

// repair does one round of repairs and reports whether all of it succeeded.
func (s *Subscriber) repair(ctx context.Context) bool {
	s.closeRetired()

	s.mu.Lock()
	strays := s.strays
	s.strays = nil
	var orphans [3][]string
	for key := range s.orphans {
		orphans[key.space] = append(orphans[key.space], key.name)
	}
	s.mu.Unlock()

	ok := true
	var tally *restoreTally
	start := time.Now()
	if (orphans[0] != nil || orphans[1] != nil || orphans[2] != nil) && s.observed() {
		tally = &restoreTally{nodes: make(map[string]*ResubscribeEvent)}
		defer func() { s.reportRestored(tally, time.Since(start)) }()
	}
	if orphans[spaceShard] != nil && s.cluster != nil {
		// Whatever dropped them (a moved slot, a demoted or lost master)
		// changed the topology.
		if _, err := s.cluster.Refresh(ctx); err != nil {
			tally.failed("", fmt.Errorf("pubsub: reading the topology to restore shard channels: %w", err))
			s.requeueStrays(strays)
			return false
		}
	}
	for sp, names := range orphans {
		if names != nil && s.subscribe(ctx, space(sp), names, attachRepair, tally) != nil {
			ok = false
		}
	}
	// After the orphans: a stray of a name that was just subscribed again
	// on the same link is no stray any more.
	for _, st := range strays {
		if !s.unsubscribeStray(ctx, st) {
			ok = false
		}
	}
	return ok
}

// requeueStrays puts strays back for the next round.
func (s *Subscriber) requeueStrays(strays []stray) {
	s.mu.Lock()
	s.strays = append(s.strays, strays...)
	s.mu.Unlock()
}

// unsubscribeStray unsubscribes st's key from its link unless the user wants
// it there by now. A failure is queued again.
func (s *Subscriber) unsubscribeStray(ctx context.Context, st stray) bool {
	s.mu.Lock()
	owner, wanted := s.want[st.key]
	skip := st.link.detached || (wanted && owner == st.link)
	// Wanted and subscribed nowhere yet: a call holds the key, or its
	// repair failed. Decide once it lands somewhere.
	// The call's settle, or the repair's success, wakes the worker again.
	undecided := !skip && wanted && owner == nil
	if undecided {
		s.strays = append(s.strays, st)
	}
	s.mu.Unlock()
	if skip || undecided {
		return true
	}
	err := st.link.conn.Send(ctx, spaceCommands[st.key.space].unsubscribe, st.key.name)
	if err == nil || isRedirect(err) {
		return true
	}
	s.mu.Lock()
	if !st.link.detached {
		s.strays = append(s.strays, st)
	}
	s.mu.Unlock()
	return false
}

// closeRetired closes the connections of links detached on a reader goroutine.
func (s *Subscriber) closeRetired() {
	s.mu.Lock()
	conns := s.toRetire
	s.toRetire = nil
	s.mu.Unlock()
	s.retire(s.life, conns)
}
