package cache

import (
	"context"
	"strings"

	"github.com/respwire/respwire/resp"
)

// Fill is one server read of a command for the cache. Every caller that
// misses the same entry while it is in flight waits for it instead of
// reading again (see Begin). From Begin to Finish it is in the key index:
// an invalidation of one of its keys, a flush or the loss of its connection
// meanwhile marks it doomed, and a doomed read is answered but not cached.
type Fill struct {
	hash  uint64
	ns    uint64
	args  []string
	keys  []string
	slot  int
	owner Owner

	doomed bool  // guarded by Store.mu
	chain  *Fill // the next read in flight with the same hash

	done chan struct{} // closed by Finish, after val and ok are set
	val  resp.Value
	ok   bool
}

// Begin registers a read of args, which reads keys, in namespace ns on the
// connection owner. When the same read is already in flight, Begin returns
// that one and leader false: the caller waits for it (Wait); so it does when
// an entry was cached since the caller's Lookup (Wait answers at once).
// Otherwise the caller is the leader: it reads and then calls Finish,
// whatever happens.
func (s *Store) Begin(ns uint64, args, keys []string, owner Owner) (f *Fill, leader bool) {
	h := s.hash(ns, args)
	s.mu.Lock()
	defer s.mu.Unlock()
	for f := s.flights[h]; f != nil; f = f.chain {
		if f.is(ns, args) {
			return f, false
		}
	}
	// A read that finished between the caller's Lookup and now left its
	// entry: s.mu keeps it from changing meanwhile.
	sh := &s.shards[h%numShards]
	sh.mu.RLock()
	e := sh.m[h]
	for e != nil && !e.is(ns, args) {
		e = e.chain
	}
	sh.mu.RUnlock()
	if e != nil && s.Now() < e.expires && e.owner.Open() {
		return &Fill{done: closedDone, val: e.val, ok: true}, false
	}
	// Copies of their own: the caller's strings may view memory it
	// reuses (a conn.Command's []byte arguments).
	args, keys = cloneStrings(args), cloneStrings(keys)
	f = &Fill{
		hash: h, ns: ns, args: args, keys: keys, slot: slotOf(keys), owner: owner,
		chain: s.flights[h],
		done:  make(chan struct{}),
	}
	s.flights[h] = f
	for _, k := range keys {
		d := s.byKey[k]
		if d == nil {
			d = &dependents{}
			s.byKey[k] = d
		}
		d.fills = append(d.fills, f)
	}
	return f, true
}

func (f *Fill) is(ns uint64, args []string) bool {
	if f.ns != ns || len(f.args) != len(args) {
		return false
	}
	for i, a := range args {
		if f.args[i] != a {
			return false
		}
	}
	return true
}

// cloneStrings returns a deep copy of ss: one allocation for the bytes, one
// for the slice.
func cloneStrings(ss []string) []string {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range ss {
		b.WriteString(s)
	}
	all := b.String()
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i], all = all[:len(s)], all[len(s):]
	}
	return out
}

// closedDone is the done channel of a Fill that Begin answered from an entry.
var closedDone = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Finish ends the leader's read f: ok says whether v is the server's reply.
// The reply is cached, until expires (on the Store's clock), unless it is an
// error, the read was doomed, its connection is no longer open or it is
// larger than the whole bound. Waiters get v either way when ok.
func (s *Store) Finish(f *Fill, v resp.Value, expires int64, ok bool) {
	defer s.tellDrops()
	s.mu.Lock()
	defer s.mu.Unlock()
	if head := unchainFill(s.flights[f.hash], f); head != nil {
		s.flights[f.hash] = head
	} else {
		delete(s.flights, f.hash)
	}
	for _, k := range f.keys {
		d := s.byKey[k]
		if d == nil {
			continue
		}
		d.fills = removeSwapped(d.fills, f)
		if len(d.entries) == 0 && len(d.fills) == 0 {
			delete(s.byKey, k)
		}
	}
	f.val, f.ok = v, ok
	close(f.done)
	if !ok || f.doomed || v.Err() != nil || !f.owner.Open() {
		return
	}
	e := &entry{
		hash: f.hash, ns: f.ns, args: f.args, keys: f.keys, slot: f.slot,
		val: v, owner: f.owner, expires: expires,
	}
	e.size = sizeOf(e.args, v)
	if e.size > s.maxBytes {
		return
	}
	s.insert(e)
}

// Wait waits for a read that another caller leads and returns its reply;
// ok is false when the read failed (the caller should read again) or when
// ctx ended (then err is ctx.Err()).
func (f *Fill) Wait(ctx context.Context) (v resp.Value, ok bool, err error) {
	select {
	case <-f.done:
		return f.val, f.ok, nil
	case <-ctx.Done():
		return resp.Value{}, false, ctx.Err()
	}
}

// Doomed reports whether f will not be cached (for tests).
func (s *Store) Doomed(f *Fill) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f.doomed
}

// unchainFill returns the chain head without f.
func unchainFill(head, f *Fill) *Fill {
	if head == f {
		return f.chain
	}
	for p := head; p != nil; p = p.chain {
		if p.chain == f {
			p.chain = f.chain
			break
		}
	}
	return head
}
