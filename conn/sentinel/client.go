package sentinel

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// Client talks to the master of a Sentinel-managed deployment, and follows
// it when the sentinels fail it over. It is a conn.Client underneath
// (auto-pipelined, redialled, with dedicated Conns for blocking commands and
// Dedicated) whose every dial goes to the master the sentinels name. Its
// methods are safe for concurrent use.
type Client struct {
	opts   Options
	dir    *directory
	master *conn.Client
	reads  *replicaReads // nil without ReadReplicas

	stop   context.CancelFunc
	closed atomic.Bool
}

// New asks the sentinels in opts.Addrs for the master named
// opts.MasterName, dials it and returns a Client for it. The first dial
// uses ctx and its failure is returned (no sentinel answered, the master
// refused the password, ...). opts must not be nil; the Client keeps a copy.
func New(ctx context.Context, opts *Options) (*Client, error) {
	if opts == nil {
		return nil, errors.New("sentinel: New: nil Options")
	}
	o := *opts
	o.Addrs = append([]string(nil), opts.Addrs...)
	if err := o.check(); err != nil {
		return nil, err
	}
	life, stop := context.WithCancel(context.Background())
	c := &Client{opts: o, dir: newDirectory(life, &o), stop: stop}
	c.dir.addSentinels(o.Addrs...)
	master, err := conn.NewClientFunc(ctx, c.dir.dialMaster, &o.Conn)
	if err != nil {
		c.shutdown()
		return nil, err
	}
	c.master = master
	if o.ReadReplicas {
		c.reads = newReplicaReads(c)
		invalidate := c.reads.invalidate
		c.dir.onReplicas.Store(&invalidate)
		c.reads.invalidate()
	}
	return c, nil
}

// Do sends one command to the master and returns its reply, as
// conn.Client.Do does; with Options.ReadReplicas a read-only command goes
// to a replica. A call that meets a switch before it was written goes to
// the new master; one that was written fails with an error wrapping
// conn.ErrClosed and is never sent twice. A READONLY reply (the server was
// demoted under the Client) makes the Client ask the sentinels again.
func (c *Client) Do(ctx context.Context, args ...string) (resp.Value, error) {
	if c.reads != nil && c.reads.routes(args) {
		if v, err, ok := c.reads.do(ctx, args); ok {
			return v, err
		}
	}
	v, err := c.master.Do(ctx, args...)
	c.check(err)
	return v, err
}

// DoMulti sends cmds to the master, written contiguously, and returns their
// replies in order, as conn.Client.DoMulti does. With Options.ReadReplicas,
// a batch of read-only commands only goes to a replica.
func (c *Client) DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	if c.reads != nil && c.reads.routesAll(cmds) {
		if vs, err, ok := c.reads.doMulti(ctx, cmds); ok {
			return vs, err
		}
	}
	vs, err := c.master.DoMulti(ctx, cmds...)
	c.checkAll(vs, err)
	return vs, err
}

// Dedicated runs fn with a Conn of its own to the master, as
// conn.Client.Dedicated does. A switch closes that Conn under fn.
func (c *Client) Dedicated(ctx context.Context, fn func(*conn.Conn) error) error {
	return c.master.Dedicated(ctx, fn)
}

// check looks at an error from the master: a READONLY reply means the
// server the Client talks to is a replica now, so the sentinels are asked
// again, in the background.
func (c *Client) check(err error) {
	var re *resp.Error
	if err == nil || !errors.As(err, &re) || re.Code != "READONLY" {
		return
	}
	c.dir.reresolve()
}

// MasterName is the name the sentinels know the master by
// (Options.MasterName).
func (c *Client) MasterName() string { return c.opts.MasterName }

// MasterAddr is the address of the master the Client last knew of.
func (c *Client) MasterAddr() string { return c.dir.currentMaster() }

// Sentinels lists the sentinels the Client knows: those it was given, then
// those it learnt from SENTINEL SENTINELS.
func (c *Client) Sentinels() []string { return c.dir.sentinels() }

// ConnOptions are the options of the Client's master and replica
// connections (Options.Conn), for building other clients on them.
func (c *Client) ConnOptions() conn.Options { return c.opts.Conn }

// DialMaster dials the master the sentinels name now, with opts (nil: the
// Client's ConnOptions), and checks with ROLE that it is a master. The Conn
// is closed by the Client when the sentinels announce another master, or
// when the Client closes; the caller closes it otherwise. A Subscriber
// built on a Client (pubsub.NewSentinel) dials through it.
func (c *Client) DialMaster(ctx context.Context, opts *conn.Options) (*conn.Conn, error) {
	if c.closed.Load() {
		return nil, errClosed
	}
	o := c.opts.Conn
	if opts != nil {
		o = *opts
	}
	return c.dir.dialMaster(ctx, &o)
}

// Close closes the master's connections, the replicas' and the sentinels',
// and waits for the Client's goroutines to end. Only the first call does
// this; every other, concurrent or later, returns nil at once.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	_ = c.master.Close()
	c.shutdown()
	return nil
}

// shutdown stops everything but the master's conn.Client.
func (c *Client) shutdown() {
	c.stop()
	c.dir.close()
	c.dir.closeConns()
}
