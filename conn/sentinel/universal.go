package sentinel

import (
	"context"
	"io"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// A Client is a conn.Universal: application code written against it runs
// on a standalone server, a cluster or a Sentinel-managed master alike.
var _ conn.Universal = (*Client)(nil)

// DoCmd is Do for a conn.Command, as conn.Client.DoCmd: on the master, or
// with Options.ReadReplicas on a replica when the command is read-only.
func (c *Client) DoCmd(ctx context.Context, cmd conn.Command) (resp.Value, error) {
	if c.reads != nil && c.reads.routesCmd(&cmd) {
		if rc := c.reads.pick(); rc != nil {
			v, err := rc.DoCmd(ctx, cmd)
			if !c.reads.toMaster(err) {
				return v, err
			}
		}
	}
	v, err := c.master.DoCmd(ctx, cmd)
	c.check(err)
	return v, err
}

// DoMultiCmd is DoMulti for conn.Commands: written contiguously, replies in
// order; a batch of read-only commands only may go to a replica.
func (c *Client) DoMultiCmd(ctx context.Context, cmds ...conn.Command) ([]resp.Value, error) {
	if c.reads != nil && c.reads.routesAllCmd(cmds) {
		if rc := c.reads.pick(); rc != nil {
			vs, err := rc.DoMultiCmd(ctx, cmds...)
			if !c.reads.anyToMaster(vs, err) {
				return vs, err
			}
		}
	}
	vs, err := c.master.DoMultiCmd(ctx, cmds...)
	c.checkAll(vs, err)
	return vs, err
}

// DoStream is conn.Client.DoStream on the master: the bulk string reply is
// written to w as it comes off the socket. Replicas are not used for it.
func (c *Client) DoStream(ctx context.Context, w io.Writer, args ...string) (int64, error) {
	n, err := c.master.DoStream(ctx, w, args...)
	c.check(err)
	return n, err
}

// DoBuffer is conn.Client.DoBuffer on the master, as DoStream.
func (c *Client) DoBuffer(ctx context.Context, dst []byte, args ...string) ([]byte, error) {
	b, err := c.master.DoBuffer(ctx, dst, args...)
	c.check(err)
	return b, err
}

// Watch runs fn on a connection of its own to the master, after WATCH
// keys, as conn.Client.Watch does. A switch closes that connection under
// fn; its EXEC then fails rather than run on a demoted master.
func (c *Client) Watch(ctx context.Context, fn func(tx conn.Doer) error, keys ...string) error {
	return c.master.Watch(ctx, fn, keys...)
}

// DoCache is conn.Client.DoCache on the master: client-side caching of
// read-only commands. A switch closes the master's connections, and with
// them the cache drops every entry, so nothing read from the old master is
// served after it. Replicas are not used for cached reads.
func (c *Client) DoCache(ctx context.Context, ttl time.Duration, args ...string) (resp.Value, error) {
	return c.master.DoCache(ctx, ttl, args...)
}

// DoMultiCache is conn.Client.DoMultiCache on the master.
func (c *Client) DoMultiCache(ctx context.Context, ttl time.Duration, cmds ...[]string) ([]resp.Value, error) {
	return c.master.DoMultiCache(ctx, ttl, cmds...)
}

// DoCacheCmd is DoCache for a conn.Command, on the master.
func (c *Client) DoCacheCmd(ctx context.Context, ttl time.Duration, cmd conn.Command) (resp.Value, error) {
	return c.master.DoCacheCmd(ctx, ttl, cmd)
}

// DoMultiCacheCmd is DoMultiCache for conn.Commands, on the master.
func (c *Client) DoMultiCacheCmd(ctx context.Context, ttl time.Duration, cmds ...conn.Command) ([]resp.Value, error) {
	return c.master.DoMultiCacheCmd(ctx, ttl, cmds...)
}

// CacheStats returns the counters of the master's client-side cache.
func (c *Client) CacheStats() conn.CacheStats { return c.master.CacheStats() }

// checkAll is check for a batch: the call's error and every reply's.
func (c *Client) checkAll(vs []resp.Value, err error) {
	c.check(err)
	for _, v := range vs {
		c.check(v.Err())
	}
}
