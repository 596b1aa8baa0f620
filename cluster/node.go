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

	// rtt is the smoothed PING round trip in nanoseconds (replica.go), 0
	// until measured.
	rtt atomic.Int64

	// reportedFailed: the topology last installed names this node as a
	// master in health "failed" (see clientOf).
	reportedFailed atomic.Bool

	// failure is the last connection failure seen on the node (a dial
	// error, a broken connection), for the errors of calls that then can't
	// reach it; nil once it answers again.
	failure atomic.Pointer[error]

	// life bounds the node's dials; close cancels it, so a dial stuck in
	// a handshake ends at once instead of at its timeout.
	life   context.Context
	cancel context.CancelFunc
	dials  *sync.WaitGroup // the nodeSet's: Client.Close waits for the dial goroutines
	stats  *nodeStats      // the nodeSet's: the figures of its connections

	mu      sync.Mutex
	dialing *dialCall // the dial running now, or nil
	closed  bool
}

// dialCall is one dial of a node, shared by every call that waits for it.
// No lock is held while it runs: a waiter gives up when its context ends,
// and closing the node cancels it.
type dialCall struct {
	done chan struct{} // closed when cl or err is set
	cl   *conn.Client
	err  error
}

// retiredBit is set in node.uses when the node is retired; the count of
// calls in flight is in the bits below.
const retiredBit = 1 << 62

// newNode makes the node for addr, not dialled, belonging to s.
func (s *nodeSet) newNode(addr string) *node {
	life := s.life
	if life == nil {
		life = context.Background()
	}
	n := &node{addr: addr, opts: s.opts, dials: &s.dials, stats: &s.stats}
	n.life, n.cancel = context.WithCancel(life)
	return n
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

// downCause is why n's connection is down, for a suspicion: its last
// failure, or errConnDown when none was recorded.
func (n *node) downCause() error {
	if err := n.lastFailure(); err != nil {
		return err
	}
	return errConnDown
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
	case cl == nil && n.dialInProgress():
		return "unreachable, dial in progress"
	case cl == nil:
		return "unreachable, not connected"
	case !cl.Connected():
		return "unreachable, connection down and redialling"
	}
	return "connected but not answering in time"
}

// dialInProgress reports whether a dial of n is running.
func (n *node) dialInProgress() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dialing != nil
}

// get returns the node's client, dialling it on first use. The dial runs
// on a goroutine of its own, bounded by the node's life and the dial
// timeout (conn.Options.DialTimeout, 10 s when 0), not by ctx: a caller
// with a short deadline gives up waiting without failing the dial for the
// others.
func (n *node) get(ctx context.Context) (*conn.Client, error) {
	if cl := n.client.Load(); cl != nil {
		return cl, nil
	}
	d, err := n.startDial()
	if err != nil {
		return nil, err
	}
	select {
	case <-d.done:
		return d.cl, d.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startDial returns the running dial, or starts one.
func (n *node) startDial() (*dialCall, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		// Dropped from the routing (or the Client closed): nothing was sent.
		return nil, &nodeError{addr: n.addr, err: conn.ErrClosed}
	}
	if cl := n.client.Load(); cl != nil {
		d := &dialCall{done: make(chan struct{}), cl: cl}
		close(d.done)
		return d, nil
	}
	if n.dialing == nil {
		d := &dialCall{done: make(chan struct{})}
		n.dialing = d
		n.dials.Go(func() { n.runDial(d) })
	}
	return n.dialing, nil
}

// runDial dials n for d and makes the client n's, unless n closed meanwhile.
func (n *node) runDial(d *dialCall) {
	cl, err := conn.NewClient(n.life, n.addr, n.opts)
	if cl != nil {
		n.stats.track(n.addr, cl)
	}
	var orphan *conn.Client
	n.mu.Lock()
	n.dialing = nil
	switch {
	case n.closed:
		// Cancelled by close (err wraps context.Canceled, which must not
		// read as the caller's), or done just too late.
		orphan, d.err = cl, &nodeError{addr: n.addr, err: conn.ErrClosed}
	case err != nil:
		n.noteFailure(err)
		d.err = &nodeError{addr: n.addr, err: err}
	default:
		n.noteAnswer()
		n.client.Store(cl)
		d.cl = cl
	}
	n.mu.Unlock()
	if orphan != nil {
		_ = orphan.Close()
		n.stats.untrack(orphan)
	}
	close(d.done)
}

// close closes the node's client, if it has one, cancels a dial in
// progress without waiting for it, and keeps the node from dialling again.
// Commands still in flight on it fail with conn.ErrClosed. Only the first
// call does this.
func (n *node) close() error {
	var err error
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		n.cancel()
		if cl := n.client.Swap(nil); cl != nil {
			err = cl.Close()
			n.stats.untrack(cl)
		}
	})
	return err
}

// errRetired is why a call that met a retired node wasn't sent there.
var errRetired = errors.New("dropped from the routing")

// errConnDown is why a node whose connection is down, for no recorded
// failure, is suspect.
var errConnDown = errors.New("cluster: connection down, redialling")

// nodeError is a failure to reach a node at all: the command was not sent.
type nodeError struct {
	addr string
	err  error
}

func (e *nodeError) Error() string { return "cluster: node " + e.addr + ": " + e.err.Error() }
func (e *nodeError) Unwrap() error { return e.err }

// SafeToRetry answers true: the node was never reached, so nothing was sent
// (see conn.SafeToRetry).
func (e *nodeError) SafeToRetry() bool { return true }

// nodeSet owns the nodes of a Client, one per address, and the retired
// ones that still have calls in flight.
type nodeSet struct {
	opts  *conn.Options
	life  context.Context // the Client's lifetime: every node's dials end with it
	dials sync.WaitGroup  // the nodes' dial goroutines

	mu       sync.Mutex
	all      map[string]*node
	retiring []*node // retired, maybe not closed yet

	stats nodeStats // the figures of the nodes' connections, closed ones included
	done  bool      // Close was called: no more nodes
}

// get returns the node for addr, creating it (without dialling) if needed.
func (s *nodeSet) get(addr string) *node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.all[addr]; ok {
		return n
	}
	n := s.newNode(addr)
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

// peek returns the node for addr if there is one, creating none.
func (s *nodeSet) peek(addr string) *node {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all[addr]
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
	// Every node is closed, so no dial starts now, and the running ones
	// were cancelled: this wait is short.
	s.dials.Wait()
	return first
}
