package cluster

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/respwire/respwire/conn"
)

// node is one cluster node's connection: a conn.Client made on first use, so
// that a node that is down when the topology names it (a failed master) costs
// nothing until a command really needs it.
type node struct {
	addr string
	opts *conn.Options // shared by every node of a Client; never modified

	client atomic.Pointer[conn.Client] // nil until dialled
	dialMu chan struct{}               // a one-slot semaphore: one dial at a time, waiters honour their context
	closed bool                        // guarded by dialMu
}

func newNode(addr string, opts *conn.Options) *node {
	return &node{addr: addr, opts: opts, dialMu: make(chan struct{}, 1)}
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
		return nil, &nodeError{addr: n.addr, err: err}
	}
	n.client.Store(cl)
	return cl, nil
}

// close closes the node's client, if it has one, and keeps it from dialling
// again. Commands still in flight on it fail with conn.ErrClosed.
func (n *node) close() error {
	n.dialMu <- struct{}{}
	n.closed = true
	<-n.dialMu
	if cl := n.client.Swap(nil); cl != nil {
		return cl.Close()
	}
	return nil
}

// nodeError is a failure to reach a node at all: the command was not sent.
type nodeError struct {
	addr string
	err  error
}

func (e *nodeError) Error() string { return "cluster: node " + e.addr + ": " + e.err.Error() }
func (e *nodeError) Unwrap() error { return e.err }

// nodeSet owns the nodes of a Client, one per address.
type nodeSet struct {
	opts *conn.Options
	mu   sync.Mutex
	all  map[string]*node
	done bool // Close was called: no more nodes
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

// retain closes and forgets every node whose address isn't in keep.
func (s *nodeSet) retain(keep map[string]bool) {
	s.mu.Lock()
	var gone []*node
	for addr, n := range s.all {
		if !keep[addr] {
			gone = append(gone, n)
			delete(s.all, addr)
		}
	}
	s.mu.Unlock()
	for _, n := range gone {
		n.close()
	}
}

// closeAll closes every node and refuses new ones.
func (s *nodeSet) closeAll() error {
	s.mu.Lock()
	s.done = true
	all := s.all
	s.all = nil
	s.mu.Unlock()
	var first error
	for _, n := range all {
		if err := n.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
