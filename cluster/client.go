package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/slots"
)

// DefaultMaxRedirects is the number of MOVED and ASK hops a command may take
// when Options.MaxRedirects is 0.
const DefaultMaxRedirects = 16

// Options configure a Client.
type Options struct {
	Addrs        []string     // seed nodes
	Conn         conn.Options // applied to every node connection
	ReadReplicas bool         // route read-only commands to replicas
	MaxRedirects int          // MOVED/ASK hops per command; 0 means the default (16)
	// RefreshInterval is the mean time between two checks of the topology
	// while nothing prompts one (no MOVED, no suspect node): each check
	// reads CLUSTER SHARDS (or SLOTS) from one node, so new replicas and
	// nodes that recovered are used without waiting for a redirect. Each
	// wait is drawn from [RefreshInterval/2, 3*RefreshInterval/2), so
	// clients started together drift apart. 0 means the default (15 s);
	// a negative value turns the checks off.
	RefreshInterval time.Duration
	// ReplicaPolicy chooses among a shard's online replicas for reads
	// (with ReadReplicas): ReplicaRandom (the default) or
	// ReplicaLowestLatency.
	ReplicaPolicy ReplicaPolicy
	// SelectReplica, when set (with ReadReplicas), chooses each shard's
	// read node instead of ReplicaPolicy; see ReplicaSelector.
	SelectReplica ReplicaSelector
	// Hooks, when not nil, report redirects, refreshes and suspect nodes;
	// Conn.Hooks reports every node connection's commands and dials.
	Hooks *Hooks
}

// Client is a Redis Cluster client. It keeps one conn.Client per node and
// routes every command to the node that serves its keys' slot. It is safe for
// concurrent use.
type Client struct {
	opts         Options
	connOpts     conn.Options // the caller's options, as ConnOptions returns them
	nodeOpts     conn.Options // what node connections use: connOpts, plus READONLY with ReadReplicas
	maxRedirects int
	refreshEvery time.Duration // the steady-state check's mean interval; 0: none

	commands *commandTable
	nodes    nodeSet
	cache    *conn.Cache                // shared by every node's connection; nil when caching is off
	table    atomic.Pointer[routeTable] // read without a lock on every command
	tableMu  sync.Mutex                 // serializes writers of table
	// installed is the table the latest refresh installed, before any
	// MOVED patched it: what the next refresh's diff compares with
	// (guarded by tableMu).
	installed *routeTable
	noShards  atomic.Bool // a node refused CLUSTER SHARDS: ask CLUSTER SLOTS

	suspects suspects // nodes that stopped answering
	obs      observer // hooks, logger and the cluster's own counters

	// afterInstall, when set, runs in install between the table swap and
	// the retiring of dropped nodes: tests put a MOVED there.
	afterInstall atomic.Pointer[func()]

	flightMu    sync.Mutex
	stopped     bool          // Close began: no refresh starts (guarded by flightMu)
	flight      *flight       // the running refresh, if any
	queued      *flight       // the refresh Refresh callers wait for, to run after flight
	refreshKick chan struct{} // one pending trigger at most
	kickReason  atomic.Int32  // the RefreshReason of the pending trigger; 0: none

	lifetime   context.Context // ends when Close starts
	stop       context.CancelFunc
	closed     atomic.Bool    // set by the first Close
	goroutines sync.WaitGroup // the refresh loop and running refreshes
	runners    batchRunners   // goroutines kept for DoMulti's batches
	done       chan struct{}  // closed when the first Close has finished
}

// New connects to the cluster: it asks the seed nodes for the topology
// (several at once; the first good answer wins), reads the command table
// (COMMAND) from the node that answered, and returns a Client that routes by
// slot. Node connections are made on first use.
func New(ctx context.Context, opts *Options) (*Client, error) {
	if opts == nil || len(opts.Addrs) == 0 {
		return nil, errors.New("cluster: no seed address")
	}
	c := &Client{
		opts:         *opts,
		connOpts:     opts.Conn,
		maxRedirects: opts.MaxRedirects,
		refreshKick:  make(chan struct{}, 1),
	}
	c.runners.work = make(chan func())
	c.opts.Addrs = append([]string(nil), opts.Addrs...)
	c.obs.hooks, c.obs.logger = opts.Hooks, opts.Conn.Logger
	if c.maxRedirects <= 0 {
		c.maxRedirects = DefaultMaxRedirects
	}
	switch c.refreshEvery = opts.RefreshInterval; {
	case c.refreshEvery == 0:
		c.refreshEvery = DefaultRefreshInterval
	case c.refreshEvery < 0:
		c.refreshEvery = 0
	}
	c.nodeOpts = c.connOpts
	if opts.ReadReplicas {
		c.nodeOpts.OnConnect = readonlyOnConnect(opts.Conn.OnConnect)
	}
	c.setupCache()
	c.nodes.opts = &c.nodeOpts
	c.lifetime, c.stop = context.WithCancel(context.Background())
	c.done = make(chan struct{})
	c.nodes.life = c.lifetime

	topo, seed, err := c.fetchTopology(ctx, c.refreshAddrs(), askAtOnce)
	if err == nil {
		err = c.loadCommands(ctx, seed)
	}
	if err != nil {
		c.stop()
		c.nodes.closeAll()
		return nil, err
	}
	c.install(topo)
	c.chooseReplicas(ctx)
	c.goroutines.Go(c.refreshLoop)
	return c, nil
}

// readonlyOnConnect returns an OnConnect hook that runs next, if any, then
// sends READONLY, so that every connection to a node, redials included, may
// read from it when it is a replica. READONLY is harmless on a master, and a
// master may become a replica.
func readonlyOnConnect(next func(context.Context, *conn.Conn) error) func(context.Context, *conn.Conn) error {
	return func(ctx context.Context, cn *conn.Conn) error {
		if next != nil {
			if err := next(ctx, cn); err != nil {
				return err
			}
		}
		_, err := cn.Do(ctx, "READONLY")
		return err
	}
}

// loadCommands reads the command table from n.
func (c *Client) loadCommands(ctx context.Context, n *node) error {
	cl, err := n.get(ctx)
	if err != nil {
		return err
	}
	v, err := cl.Do(ctx, "COMMAND")
	if err != nil {
		return fmt.Errorf("cluster: COMMAND on %s: %w", n.addr, err)
	}
	commands, err := parseCommands(v)
	if err != nil {
		return fmt.Errorf("cluster: COMMAND on %s: %w", n.addr, err)
	}
	addBuiltinTips(commands)
	c.commands = newCommandTable(commands)
	return nil
}

// Topology returns the topology the Client routes by, as last read. It is
// never nil after New. MOVED replies patch the routing at once but show
// here only after the refresh they trigger.
func (c *Client) Topology() *slots.Topology {
	return c.table.Load().topo
}

// ConnOptions returns the connection options the Client was given
// (Options.Conn). Node connections use them too, with READONLY added when
// ReadReplicas is set.
func (c *Client) ConnOptions() conn.Options {
	return c.connOpts
}

// Close closes every node connection and stops the background refresh,
// waiting for it. The first call does the work; every other call, concurrent
// or later, returns nil at once. Calls in flight fail with an error wrapping
// conn.ErrClosed.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.stop()
	// A refresh starts under flightMu, adding itself to c.goroutines there;
	// once stopped is set none starts, so Wait sees every one.
	c.flightMu.Lock()
	c.stopped = true
	c.flightMu.Unlock()
	c.goroutines.Wait()
	err := c.nodes.closeAll()
	// After the nodes: a runner still sending a batch (its caller's
	// context may never end) returns once its node's connection closed.
	c.runners.exited.Wait()
	close(c.done)
	return err
}

// Done returns a channel that is closed once the first Close has finished:
// the refreshes stopped and every node's connections closed.
func (c *Client) Done() <-chan struct{} { return c.done }
