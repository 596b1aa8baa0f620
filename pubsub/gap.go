package pubsub

import (
	"fmt"
	"sync/atomic"
	"time"
)

// This file keeps the record of subscriptions that stopped being live, and
// turns it into Gap reports once they are live again. Functions named
// ...Locked run with Subscriber.mu held.

// lostSince is when a subscription stopped being known live, and why.
type lostSince struct {
	from  time.Time
	cause error
}

// lostLocked records that keys may miss messages published from from on,
// unless they were lost earlier already (the first loss counts, and its
// cause).
func (s *Subscriber) lostLocked(keys []subKey, from time.Time, cause error) {
	for _, key := range keys {
		if _, ok := s.lost[key]; !ok {
			s.lost[key] = lostSince{from: from, cause: cause}
		}
	}
}

// liveLocked records that keys are live on l since now, and queues one Gap
// for those of them that were lost.
func (s *Subscriber) liveLocked(l *link, keys []subKey, now time.Time) {
	var g *Gap
	for _, key := range keys {
		since, ok := s.lost[key]
		if !ok || s.want[key] != l {
			continue
		}
		delete(s.lost, key)
		if g == nil {
			g = &Gap{From: since.from, To: now, Cause: since.cause}
		} else if since.from.Before(g.From) {
			g.From, g.Cause = since.from, since.cause
		}
		switch key.space {
		case spaceChannel:
			g.Channels = append(g.Channels, key.name)
		case spacePattern:
			g.Patterns = append(g.Patterns, key.name)
		case spaceShard:
			g.ShardChannels = append(g.ShardChannels, key.name)
		}
	}
	if g != nil {
		s.queueGapLocked(g)
	}
}

// queueGapLocked queues g for the repair worker to deliver.
func (s *Subscriber) queueGapLocked(g *Gap) {
	s.gaps = append(s.gaps, g)
	s.wakeRepair()
}

// takeGaps returns every queued gap merged into one (From the earliest, To
// the latest, the earliest's Cause), or nil if none is queued. The caller
// owns it: nothing changes it once taken.
func (s *Subscriber) takeGaps() *Gap {
	s.mu.Lock()
	gaps := s.gaps
	s.gaps = nil
	s.mu.Unlock()
	if len(gaps) <= 1 {
		if len(gaps) == 0 {
			return nil
		}
		return gaps[0]
	}
	merged := &Gap{From: gaps[0].From, To: gaps[0].To, Cause: gaps[0].Cause}
	for _, g := range gaps {
		merged.Channels = append(merged.Channels, g.Channels...)
		merged.Patterns = append(merged.Patterns, g.Patterns...)
		merged.ShardChannels = append(merged.ShardChannels, g.ShardChannels...)
		if g.From.Before(merged.From) {
			merged.From, merged.Cause = g.From, g.Cause
		}
		if g.To.After(merged.To) {
			merged.To = g.To
		}
	}
	return merged
}

// liveness is what a link knows of the last time it was known live: every
// message published before then has been read from it.
type liveness struct {
	at atomic.Int64 // unix nanoseconds
}

// mark records that the link was live at t, if that is later than known.
func (lv *liveness) mark(t time.Time) {
	n := t.UnixNano()
	for {
		old := lv.at.Load()
		if n <= old || lv.at.CompareAndSwap(old, n) {
			return
		}
	}
}

// since returns the last time the link was known live.
func (lv *liveness) since() time.Time {
	return time.Unix(0, lv.at.Load())
}

// errDropped is the cause of a gap for a subscription the server dropped on
// its own.
func errDropped(addr string, key subKey) error {
	return fmt.Errorf("pubsub: %s unsubscribed %s by itself (its slot moved, or its master was demoted)", addr, key.name)
}
