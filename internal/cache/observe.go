package cache

// DropKind says why entries were dropped.
type DropKind uint8

const (
	// DropEvicted: dropped to stay within the byte bound.
	DropEvicted DropKind = iota
	// DropInvalidated: dropped by the server's invalidation, their
	// connection lost or flushed, or their cluster slot moved.
	DropInvalidated
	numDropKinds
)

// Observer is told how many entries of its namespace one call of the Store
// dropped, and why. It runs after the Store's lock is released, on the
// goroutine of that call (a connection's reader, for invalidations), so it
// must be quick.
type Observer func(kind DropKind, n int)

// observers are the Store's Observers and the drops not yet told to them,
// under Store.mu.
type observers struct {
	fns     map[uint64]Observer           // by namespace
	pending map[uint64]*[numDropKinds]int // drops of the call in progress
}

// Observe has fn told of the drops of namespace ns's entries from now on;
// a nil fn stops that.
func (s *Store) Observe(ns uint64, fn Observer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fn == nil {
		if _, ok := s.obs.fns[ns]; ok {
			delete(s.obs.fns, ns)
			s.observed.Add(-1)
		}
		return
	}
	if s.obs.fns == nil {
		s.obs.fns = make(map[uint64]Observer)
	}
	if _, ok := s.obs.fns[ns]; !ok {
		s.observed.Add(1)
	}
	s.obs.fns[ns] = fn
}

// noteDrop records that e was dropped for kind, for its namespace's
// Observer, with s.mu held.
func (s *Store) noteDrop(e *entry, kind DropKind) {
	if s.obs.fns[e.ns] == nil {
		return
	}
	if s.obs.pending == nil {
		s.obs.pending = make(map[uint64]*[numDropKinds]int)
	}
	n := s.obs.pending[e.ns]
	if n == nil {
		n = new([numDropKinds]int)
		s.obs.pending[e.ns] = n
	}
	n[kind]++
}

// tellDrops tells the Observers of the drops noted since it last ran. It
// is deferred before s.mu is taken, so it runs once the lock is released;
// with no Observer it costs one atomic load.
func (s *Store) tellDrops() {
	if s.observed.Load() == 0 {
		return
	}
	type told struct {
		fn Observer
		n  *[numDropKinds]int
	}
	s.mu.Lock()
	var tell []told
	for ns, n := range s.obs.pending {
		if fn := s.obs.fns[ns]; fn != nil {
			tell = append(tell, told{fn, n})
		}
	}
	s.obs.pending = nil
	s.mu.Unlock()
	for _, t := range tell {
		for kind, n := range t.n {
			if n > 0 {
				t.fn(DropKind(kind), n)
			}
		}
	}
}
