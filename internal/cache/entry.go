package cache

import (
	"sync/atomic"

	"github.com/respwire/respwire/resp"
)

// entry is one cached reply. Only val, expires, owner and used are read by
// Lookup; the rest belongs to the Store's mu.
type entry struct {
	hash    uint64
	ns      uint64
	args    []string // the command, a copy of the caller's
	keys    []string // the server keys it read, within args
	slot    int
	val     resp.Value
	size    int64
	owner   Owner
	expires int64 // Store.Now() after which it is not returned

	used  atomic.Bool // returned since the eviction hand last passed
	chain *entry      // the next entry with the same hash
	older *entry      // the recency list
	newer *entry
}

// is reports whether e caches args in namespace ns.
func (e *entry) is(ns uint64, args []string) bool {
	if e.ns != ns || len(e.args) != len(args) {
		return false
	}
	for i, a := range args {
		if e.args[i] != a {
			return false
		}
	}
	return true
}

// entryOverhead is what an entry costs besides its strings and its Value:
// the entry itself, its map slot, its index references.
const entryOverhead = 192

// valueOverhead is what a resp.Value costs besides its strings and elements.
const valueOverhead = 64

// sizeOf estimates the memory that caching v for args takes.
func sizeOf(args []string, v resp.Value) int64 {
	n := int64(entryOverhead)
	for _, a := range args {
		n += int64(len(a)) + 16 + 48 // the string, its header, its index slot
	}
	return n + valueSize(v)
}

// valueSize estimates the memory v holds.
func valueSize(v resp.Value) int64 {
	n := int64(valueOverhead)
	if s, err := v.Text(); err == nil && v.Kind() != resp.Double {
		n += int64(len(s))
	}
	if e := v.Err(); e != nil {
		n += 64
	}
	for _, el := range v.Elems() {
		n += valueSize(el)
	}
	for _, a := range v.Attrs() {
		n += valueSize(a)
	}
	return n
}

// insert puts e in its shard, the key index and the recency list, replacing
// the entry for the same command, then evicts down to the bound. s.mu is
// held.
func (s *Store) insert(e *entry) {
	sh := &s.shards[e.hash%numShards]
	sh.mu.Lock()
	var old *entry
	for o := sh.m[e.hash]; o != nil; o = o.chain {
		if o.is(e.ns, e.args) {
			old = o
			break
		}
	}
	sh.mu.Unlock()
	if old != nil {
		s.remove(old)
	}
	sh.mu.Lock()
	e.chain = sh.m[e.hash]
	sh.m[e.hash] = e
	sh.mu.Unlock()
	for _, k := range e.keys {
		d := s.byKey[k]
		if d == nil {
			d = &dependents{}
			s.byKey[k] = d
		}
		d.entries = append(d.entries, e)
	}
	e.older = s.newest
	if s.newest != nil {
		s.newest.newer = e
	} else {
		s.oldest = e
	}
	s.newest = e
	s.bytes += e.size
	s.entries++
	s.evict()
}

// evict drops entries until the bytes are within the bound: the oldest
// entry not used since the hand last passed it; a used one gets a second
// chance at the new end of the list. s.mu is held.
func (s *Store) evict() {
	for s.bytes > s.maxBytes && s.oldest != nil {
		e := s.oldest
		if e.used.Load() && e != s.newest {
			e.used.Store(false)
			s.unlink(e)
			e.older = s.newest
			s.newest.newer = e
			s.newest = e
			continue
		}
		s.remove(e)
		s.evictions.Add(1)
		s.noteDrop(e, DropEvicted)
	}
}

// remove takes e out of its shard, the key index and the recency list.
// s.mu is held.
func (s *Store) remove(e *entry) {
	sh := &s.shards[e.hash%numShards]
	sh.mu.Lock()
	if head := unchain(sh.m[e.hash], e); head != nil {
		sh.m[e.hash] = head
	} else {
		delete(sh.m, e.hash)
	}
	sh.mu.Unlock()
	for _, k := range e.keys {
		d := s.byKey[k]
		if d == nil {
			continue
		}
		d.entries = removeSwapped(d.entries, e)
		if len(d.entries) == 0 && len(d.fills) == 0 {
			delete(s.byKey, k)
		}
	}
	s.unlink(e)
	s.bytes -= e.size
	s.entries--
}

// unlink takes e out of the recency list. s.mu is held.
func (s *Store) unlink(e *entry) {
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		s.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		s.newest = e.older
	}
	e.older, e.newer = nil, nil
}

// unchain returns the chain head without e.
func unchain(head, e *entry) *entry {
	if head == e {
		return e.chain
	}
	for p := head; p != nil; p = p.chain {
		if p.chain == e {
			p.chain = e.chain
			break
		}
	}
	return head
}

// removeSwapped removes x from list, if it is there, by moving the last
// element into its place (order does not matter), and clears the freed slot
// so the removed pointer is not kept alive.
func removeSwapped[T comparable](list []T, x T) []T {
	for i, y := range list {
		if y == x {
			last := len(list) - 1
			list[i] = list[last]
			var zero T
			list[last] = zero
			return list[:last]
		}
	}
	return list
}
