package pubsub

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/respwire/respwire/conn"
)

// This file holds the membership decisions: which subscription lives on which
// link. Every function here runs with Subscriber.mu held and never blocks, so
// the reader goroutines (onPush) can take the mutex at any time.
//
// The invariants:
//   - want[key] is the link key is subscribed on, or nil while key waits in
//     orphans for the repair worker, or is held by a subscribe call that will
//     route it again, drop it or queue it in orphans before it returns.
//   - key ∈ l.members exactly when want[key] == l.
//   - tentative[key] counts the user's calls in flight that claim key: it
//     is wanted, and no call that wanted it has succeeded yet.
//   - an attached shard link has at least one member, or is being set up by
//     the call that created it.

// linkLocked returns the attached link that sp's subscriptions at addr go
// to, creating it if there is none. created says the caller must dial it.
func (s *Subscriber) linkLocked(sp space, addr string) (l *link, created bool) {
	if sp != spaceShard {
		if s.global != nil {
			return s.global, false
		}
		s.global = newLink(addr, false)
		return s.global, true
	}
	if l := s.nodes[addr]; l != nil {
		return l, false
	}
	l = newLink(addr, true)
	s.nodes[addr] = l
	return l, true
}

// attachLocked routes keys to l and returns the ones to send a subscribe for.
// A user's call wants every key, and claims those that no call that
// succeeded wants yet (the ones not wanted before it, and the ones other
// calls in flight claim): if it fails it takes back what it claimed, unless
// another claimer succeeds (see settle). A retry takes the keys that are
// still wanted, and a repair only those waiting in orphans: anything the user
// unsubscribed meanwhile stays unsubscribed. A key wanted on another link
// moves here; if that empties a shard link, its connection comes back in
// closeNow for the caller to close.
func (s *Subscriber) attachLocked(l *link, keys []subKey, mode attachMode) (send, claimed []subKey, closeNow []*conn.Conn) {
	for _, key := range keys {
		owner, wanted := s.want[key]
		_, orphaned := s.orphans[key]
		if n, tentative := s.tentative[key]; mode == attachUser && wanted && tentative {
			s.tentative[key] = n + 1
			claimed = append(claimed, key)
		}
		switch {
		case mode == attachRetry && !wanted, mode == attachRepair && !orphaned:
			continue
		case !wanted:
			claimed = append(claimed, key)
			s.tentative[key] = 1
			s.wanted.add(key)
		case owner == nil:
			delete(s.orphans, key)
		case owner != l:
			delete(owner.members, key)
			if c := s.retireIfEmptyLocked(owner); c != nil {
				closeNow = append(closeNow, c)
			}
		}
		s.want[key] = l
		l.members[key] = struct{}{}
		send = append(send, key)
	}
	return send, claimed, closeNow
}

// subscribedLocked records that a subscribe of keys on l was confirmed. A
// key still wanted that a failed call took off l meanwhile (it sent the same
// name on l) lives on l after all; if l is gone by now, it waits for the
// repair worker.
func (s *Subscriber) subscribedLocked(l *link, keys []subKey, sent time.Time) {
	for _, key := range keys {
		owner, wanted := s.want[key]
		if !wanted || owner != nil {
			continue
		}
		if _, orphaned := s.orphans[key]; orphaned {
			continue
		}
		if l.detached {
			s.lostLocked([]subKey{key}, sent, fmt.Errorf("pubsub: connection to %s lost", l.addr))
			s.orphans[key] = struct{}{}
			s.wakeRepair()
			continue
		}
		s.want[key] = l
		l.members[key] = struct{}{}
	}
}

// orphanLocked takes the keys still wanted on l off it. With queue they wait
// in orphans for the repair worker; without, the calling subscribe holds them
// (to route again, or settle). If that empties an attached shard link, it is
// detached and its connection returned for the caller to close.
func (s *Subscriber) orphanLocked(l *link, keys []subKey, queue bool) *conn.Conn {
	for _, key := range keys {
		if owner, wanted := s.want[key]; wanted && owner == l {
			s.want[key] = nil
			if queue {
				s.orphans[key] = struct{}{}
				s.wakeRepair()
			}
		}
		delete(l.members, key)
	}
	return s.retireIfEmptyLocked(l)
}

// unwantLocked records that the user no longer wants keys, and groups the
// ones subscribed somewhere by link. Links left without members are not in
// the result: their connections, returned in closeNow, are closed instead,
// which unsubscribes everything on them at once.
func (s *Subscriber) unwantLocked(keys []subKey) (send map[*link][]subKey, closeNow []*conn.Conn) {
	send = make(map[*link][]subKey)
	for _, key := range keys {
		owner, wanted := s.want[key]
		if !wanted {
			continue
		}
		delete(s.want, key)
		s.wanted.remove(key)
		delete(s.lost, key)
		delete(s.tentative, key)
		if owner == nil {
			delete(s.orphans, key)
			continue
		}
		delete(owner.members, key)
		send[owner] = append(send[owner], key)
	}
	for l := range send {
		if c := s.retireIfEmptyLocked(l); l.detached {
			delete(send, l)
			if c != nil {
				closeNow = append(closeNow, c)
			}
		}
	}
	return send, closeNow
}

// retireIfEmptyLocked detaches l if it is a shard link without members.
func (s *Subscriber) retireIfEmptyLocked(l *link) *conn.Conn {
	if !l.shard || len(l.members) > 0 {
		return nil
	}
	return s.detachLocked(l)
}

// detachLocked makes l unreachable, so no subscription is ever added to it
// again, and hands its connection to the caller to close, unless someone
// already took that job or the dial has not returned yet (the dialler then
// closes it). It returns nil if l was already detached.
func (s *Subscriber) detachLocked(l *link) *conn.Conn {
	if l.detached {
		return nil
	}
	l.detached = true
	close(l.dying)
	if s.global == l {
		s.global = nil
	}
	if s.nodes[l.addr] == l {
		delete(s.nodes, l.addr)
	}
	if l.conn == nil || l.closeTaken {
		return nil
	}
	l.closeTaken = true
	return l.conn
}

// wakeRepair tells the repair worker there is work, without blocking.
func (s *Subscriber) wakeRepair() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func keysOf(set map[subKey]struct{}) []subKey {
	keys := make([]subKey, 0, len(set))
	for key := range set {
		keys = append(keys, key)
	}
	return keys
}

func closeAll(conns []*conn.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// retire closes the connections of emptied shard links. Each first gets a
// bare SUNSUBSCRIBE (everything), and is closed once that is answered: by
// then the server holds none of the connection's shard channels, and every
// unsubscribe written before it was answered too. A bare close would leave
// them counted until the server notices the closed socket. Close cuts the
// wait short, since it waits for every connection to be closed.
func (s *Subscriber) retire(ctx context.Context, conns []*conn.Conn) {
	if len(conns) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.life, cancel)
	defer stop()
	for _, c := range conns {
		_ = c.Send(ctx, spaceCommands[spaceShard].unsubscribe) // closed either way
		c.Close()
	}
}

// wantedSet is the set of keys of Subscriber.want, for the reader goroutines
// to check each message against without taking Subscriber.mu. It changes
// only under Subscriber.mu, together with want. Each space maps a name to
// itself, so that a reader holding the name's bytes finds the string to put
// in a Message without allocating one (see lookup).
type wantedSet struct {
	mu    sync.RWMutex
	names [len(spaceCommands)]map[string]string
}

func (w *wantedSet) has(key subKey) bool {
	w.mu.RLock()
	_, ok := w.names[key.space][key.name]
	w.mu.RUnlock()
	return ok
}

// lookup returns the wanted name of space sp spelled by b, and whether
// there is one.
func (w *wantedSet) lookup(sp space, b []byte) (string, bool) {
	w.mu.RLock()
	name, ok := w.names[sp][string(b)] // a lookup by []byte: no allocation
	w.mu.RUnlock()
	return name, ok
}

func (w *wantedSet) add(key subKey) {
	w.mu.Lock()
	if w.names[key.space] == nil {
		w.names[key.space] = make(map[string]string)
	}
	w.names[key.space][key.name] = key.name
	w.mu.Unlock()
}

func (w *wantedSet) remove(key subKey) {
	w.mu.Lock()
	delete(w.names[key.space], key.name)
	w.mu.Unlock()
}
