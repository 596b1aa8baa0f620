// Package cache is the store behind client-side caching (conn.Client.DoCache
// and cluster.Client.DoCache): replies keyed by the whole command, an index
// from each server key to the entries and reads that depend on it, a byte
// bound kept by evicting the least recently used entries (second chance),
// and one server read for many callers missing the same entry.
//
// The store knows nothing of connections beyond the Owner interface: every
// entry and every read in flight belongs to the connection it was read on,
// and is worthless once that connection is no longer open.
package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// Owner is the connection an entry was read on. An entry whose owner is no
// longer open is never returned.
type Owner interface{ Open() bool }

// numShards spreads the entries over independently locked maps, so that
// hits from many goroutines rarely touch the same lock.
const numShards = 64

// Stats are a Store's counters.
type Stats struct {
	Entries     int    // entries held
	Bytes       int64  // their estimated size
	MaxBytes    int64  // the bound on Bytes
	Misses      uint64 // lookups that found no usable entry
	Evictions   uint64 // entries dropped to stay within MaxBytes
	Invalidated uint64 // entries dropped by invalidations, lost connections and moved slots
}

// Store holds cached replies within a byte bound. It is safe for concurrent
// use. Lookup takes one shard's read lock; everything else takes mu first
// and then the shard locks it needs.
type Store struct {
	seed     maphash.Seed
	epoch    time.Time
	maxBytes int64
	shards   [numShards]shard

	mu      sync.Mutex
	bytes   int64
	entries int
	byKey   map[string]*dependents // server key → what read it
	flights map[uint64]*Fill       // reads in flight, by command hash
	oldest  *entry                 // the recency list, oldest first
	newest  *entry

	misses      atomic.Uint64
	evictions   atomic.Uint64
	invalidated atomic.Uint64

	obs      observers    // under mu; see Observe
	observed atomic.Int32 // how many Observers obs holds
}

// shard is one part of the entries, found by command hash. Chains hold the
// rare commands whose hashes collide.
type shard struct {
	mu sync.RWMutex
	m  map[uint64]*entry
	_  [96]byte // 128 bytes a shard: neighbouring shards never share a cache line
}

// dependents are the entries and the reads in flight that read one key.
type dependents struct {
	entries []*entry
	fills   []*Fill
}

// New returns a Store that keeps at most maxBytes of entries (estimated).
func New(maxBytes int64) *Store {
	s := &Store{
		seed:     maphash.MakeSeed(),
		epoch:    time.Now(),
		maxBytes: maxBytes,
		byKey:    make(map[string]*dependents),
		flights:  make(map[uint64]*Fill),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]*entry)
	}
	return s
}

// Now is the Store's clock, in monotonic nanoseconds: expiries are in it.
func (s *Store) Now() int64 { return int64(time.Since(s.epoch)) }

// hash is the hash of the command args in namespace ns.
func (s *Store) hash(ns uint64, args []string) uint64 {
	h := ns*0x9e3779b97f4a7c15 + uint64(len(args))
	for _, a := range args {
		h = (h ^ maphash.String(s.seed, a)) * 0x100000001b3
	}
	return h
}

// Lookup returns the cached reply to args in namespace ns when there is one
// that has not expired and whose connection is still open. It neither
// allocates nor blocks on anything but a shard's read lock. The Value is
// shared with every other caller that gets it.
func (s *Store) Lookup(ns uint64, args []string) (resp.Value, bool) {
	h := s.hash(ns, args)
	sh := &s.shards[h%numShards]
	sh.mu.RLock()
	e := sh.m[h]
	for e != nil && !e.is(ns, args) {
		e = e.chain
	}
	if e == nil {
		sh.mu.RUnlock()
		s.misses.Add(1)
		return resp.Value{}, false
	}
	v, expires, owner := e.val, e.expires, e.owner
	if !e.used.Load() {
		e.used.Store(true)
	}
	sh.mu.RUnlock()
	if s.Now() >= expires || !owner.Open() {
		s.misses.Add(1)
		return resp.Value{}, false
	}
	return v, true
}

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	st := Stats{Entries: s.entries, Bytes: s.bytes, MaxBytes: s.maxBytes}
	s.mu.Unlock()
	st.Misses = s.misses.Load()
	st.Evictions = s.evictions.Load()
	st.Invalidated = s.invalidated.Load()
	return st
}

// Invalidate drops every entry that read one of keys and keeps every read
// in flight that reads one of them from being cached.
func (s *Store) Invalidate(keys ...string) {
	defer s.tellDrops()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		d := s.byKey[k]
		if d == nil {
			continue
		}
		for _, f := range d.fills {
			f.doomed = true
		}
		for len(d.entries) > 0 {
			e := d.entries[len(d.entries)-1]
			s.remove(e)
			s.invalidated.Add(1)
			s.noteDrop(e, DropInvalidated)
		}
	}
}

// DropOwner drops every entry read on o and keeps o's reads in flight from
// being cached: o's connection was flushed (a null invalidation) or lost.
func (s *Store) DropOwner(o Owner) {
	s.dropWhere(func(e *entry) bool { return e.owner == o }, func(f *Fill) bool { return f.owner == o })
}

// DropSlots drops every entry, of any namespace, whose keys hash to one of
// the cluster slots, and keeps such reads in flight from being cached: the
// slots moved to other nodes. It makes one pass over the entries.
func (s *Store) DropSlots(moved []uint16) {
	if len(moved) == 0 {
		return
	}
	var set [slots.NumSlots / 64]uint64
	for _, sl := range moved {
		if int(sl) < slots.NumSlots {
			set[sl/64] |= 1 << (sl % 64)
		}
	}
	in := func(slot int) bool { return slot >= 0 && set[slot/64]&(1<<(slot%64)) != 0 }
	s.dropWhere(func(e *entry) bool { return in(e.slot) }, func(f *Fill) bool { return in(f.slot) })
}

func (s *Store) dropWhere(entryMatch func(*entry) bool, fillMatch func(*Fill) bool) {
	defer s.tellDrops()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.flights {
		for ; f != nil; f = f.chain {
			if fillMatch(f) {
				f.doomed = true
			}
		}
	}
	for e := s.oldest; e != nil; {
		next := e.newer
		if entryMatch(e) {
			s.remove(e)
			s.invalidated.Add(1)
			s.noteDrop(e, DropInvalidated)
		}
		e = next
	}
}

// slotOf is the cluster slot of an entry's keys (of the first: a cluster
// refuses commands whose keys hash to different slots).
func slotOf(keys []string) int {
	if len(keys) == 0 {
		return -1
	}
	return int(slots.Slot(keys[0]))
}
