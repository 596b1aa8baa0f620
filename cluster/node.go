package cluster

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/respwire/respwire/conn"
)

// node is one cluster node's connection: a conn.Client made on first use, so
// that a node that is down when the topology names it (a failed master) costs
// nothing until a command really needs it.
//
// A node the routing drops is retired, not closed at once: it closes when
// the last call in flight on it returns (those calls get their replies,
// MOVED most likely, which they follow), or at once when its connection is
// down (the calls waiting for a redial were never written; they fail as
// unsent and are routed afresh).
type node struct {
	addr string
	opts *conn.Options // shared by every node of a Client; never modified

	client atomic.Pointer[conn.Client] // nil until dialled
	// uses counts the calls in flight through the node, plus retiredBit
	// once it is retired.
	uses      atomic.Int64
	closeOnce sync.Once

	// reportedFailed: the topology last installed names this node as a
	// master in health "failed" (see clientOf).
	reportedFailed atomic.Bool

	// failure is the last connection failure seen on the node (a dial
	// error, a broken connection), for the errors of calls that then can't
	// reach it; nil once it answers again.
	failure atomic.Pointer[error]

	dialMu chan struct{} // a one-slot semaphore: one dial at a time, waiters honour their context
	closed bool          // guarded by dialMu
}

// retiredBit is set in node.uses when the node is retired; the count of
// calls in flight is in the bits below.
const retiredBit = 1 << 62

func newNode(addr string, opts *conn.Options) *node {
	return &node{addr: addr, opts: opts, dialMu: make(chan struct{}, 1)}
}

// acquire counts one call going through n. It returns false, counting
// nothing, when n is retired: the call must be routed afresh.
//
// acquire and retire pair up like a Dekker lock: acquire raises the count
// then looks for the bit, retire sets the bit then looks at the count, both
// with sequentially consistent atomics, so either the call sees the bit and
// leaves, or retire sees the call and leaves the closing to its release.
func (n *node) acquire() bool {
	if n.uses.Add(1)&retiredBit != 0 {
		n.release()
		return false
	}
	return true
}

// release ends a call counted by acquire; the last call out of a retired
// node closes it.
func (n *node) release() {
	if n.uses.Add(-1) == retiredBit {
		n.close()
	}
}

// retire marks n as dropped by the routing: no new call goes through it, and
// it closes once no call is in flight on it, or at once if its connection is
// down.
func (n *node) retire() {
	if old := n.uses.Or(retiredBit); old&^retiredBit == 0 {
		n.close()
		return
	}
	n.closeIfDown()
}

// closeIfDown closes n when it has no connection or its connection is down.
func (n *node) closeIfDown() {
	if cl := n.client.Load(); cl == nil || !cl.Connected() {
		n.close()
	}
}

// retired reports whether retire was called.
func (n *node) retired() bool { return n.uses.Load()&retiredBit != 0 }

// noteFailure records err as the node's last connection failure.
func (n *node) noteFailure(err error) { n.failure.Store(&err) }

// noteAnswer records that the node answered: it has no failure to tell.
func (n *node) noteAnswer() {
	if n.failure.Load() != nil {
		n.failure.Store(nil)
	}
}

// lastFailure returns the failure noteFailure recorded last, or nil.
func (n *node) lastFailure() error {
	if p := n.failure.Load(); p != nil {
		return *p
	}
	return nil
}

// describe says what the node's connection is doing, for an error message.
func (n *node) describe() string {
	cl := n.client.Load()
	switch {
	case n.uses.Load()&retiredBit != 0 && cl == nil:
		return "dropped from the routing"
	case cl == nil:
		return "unreachable, not connected"
	case !cl.Connected():
		return "unreachable, connection down and redialling"
	}
	return "connected but not answering in time"
}

// get returns the node's client, dialling it on first use.
func (n *node) get(ctx context.Context) (*conn.Client, error) {
	if cl := n.client.Load(); cl != nil {
		return cl, nil
	}
	return n.dial(ctx)
}

func (n *node) dial(ctx context.Context) (*conn.Client, error) {
	select {
	case n.dialMu <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-n.dialMu }()
	if cl := n.client.Load(); cl != nil {
		return cl, nil
	}
	if n.closed {
		// Dropped from the routing (or the Client closed): nothing was sent.
		return nil, &nodeError{addr: n.addr, err: conn.ErrClosed}
	}
	cl, err := conn.NewClient(ctx, n.addr, n.opts)
	if err != nil {
		n.noteFailure(err)
		return nil, &nodeError{addr: n.addr, err: err}
	}
	n.noteAnswer()
	n.client.Store(cl)
	return cl, nil
}

// close closes the node's client, if it has one, and keeps it from dialling
// again. Commands still in flight on it fail with conn.ErrClosed. Only the
// first call does this.
func (n *node) close() error {
	var err error
	n.closeOnce.Do(func() {
		n.dialMu <- struct{}{}
		n.closed = true
		<-n.dialMu
		if cl := n.client.Swap(nil); cl != nil {
			err = cl.Close()
		}
	})
	return err
}

// errRetired is why a call that met a retired node wasn't sent there.
var errRetired = errors.New("dropped from the routing")

// nodeError is a failure to reach a node at all: the command was not sent.
type nodeError struct {
	addr string
	err  error
}

func (e *nodeError) Error() string { return "cluster: node " + e.addr + ": " + e.err.Error() }
func (e *nodeError) Unwrap() error { return e.err }

// nodeSet owns the nodes of a Client, one per address, and the retired
// ones that still have calls in flight.
type nodeSet struct {
	opts     *conn.Options
	mu       sync.Mutex
	all      map[string]*node
	retiring []*node // retired, maybe not closed yet
	done     bool    // Close was called: no more nodes
}

// get returns the node for addr, creating it (without dialling) if needed.
func (s *nodeSet) get(addr string) *node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.all[addr]; ok {
		return n
	}
	n := newNode(addr, s.opts)
	if s.done {
		n.closed = true
		return n
	}
	if s.all == nil {
		s.all = make(map[string]*node)
	}
	s.all[addr] = n
	return n
}

// drop forgets every node whose address isn't in keep and returns them, to
// be retired. The Client calls it with the routing table's lock held, so
// that a MOVED can't pick up a node that is being dropped: a MOVED after it
// gets a new node for the address.
func (s *nodeSet) drop(keep map[string]bool) []*node {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []*node
	for addr, n := range s.all {
		if !keep[addr] {
			gone = append(gone, n)
			delete(s.all, addr)
		}
	}
	s.retiring = append(s.retiring, gone...)
	return gone
}

// sweep closes the retired nodes whose connection went down since, and
// forgets those that are closed.
func (s *nodeSet) sweep() {
	s.mu.Lock()
	list := s.retiring
	s.retiring = nil
	s.mu.Unlock()
	var keep []*node
	for _, n := range list {
		n.closeIfDown()
		if n.client.Load() != nil {
			keep = append(keep, n)
		}
	}
	s.mu.Lock()
	done := s.done
	if !done {
		s.retiring = append(s.retiring, keep...)
	}
	s.mu.Unlock()
	if done { // closeAll ran meanwhile and didn't see these
		for _, n := range keep {
			n.close()
		}
	}
}

// closeAll closes every node, retired ones included, and refuses new ones.
func (s *nodeSet) closeAll() error {
	s.mu.Lock()
	s.done = true
	all := s.all
	retiring := s.retiring
	s.all, s.retiring = nil, nil
	s.mu.Unlock()
	var first error
	for _, n := range all {
		if err := n.close(); err != nil && first == nil {
			first = err
		}
	}
	for _, n := range retiring {
		n.close()
	}
	return first
}
