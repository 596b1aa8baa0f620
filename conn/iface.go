package conn

import (
	"context"
	"time"

	"github.com/respwire/respwire/resp"
)

// Doer sends commands and returns their replies: a *Conn, a *Client and a
// *cluster.Client all are one, and so is the connection Universal.Watch
// lends. It is what Script runs on, and what a fake of an application's own
// needs to implement.
//
// Calling through Doer costs no more allocations than calling the concrete
// type: a Command is a value that holds its arguments (see Command), where
// the variadic Do(ctx, args ...string) would make its argument slice escape
// to the heap once the compiler can no longer see the callee. The variadic
// methods stay on the concrete types, for code that holds one.
type Doer interface {
	// DoCmd sends one command and returns its reply; an error reply is
	// returned as the Value and as a *resp.Error.
	DoCmd(ctx context.Context, cmd Command) (resp.Value, error)
	// DoMultiCmd sends cmds as one batch and returns their replies in
	// order; error replies stay in the values (see resp.Value.Err). A
	// batch that holds MULTI ... EXEC is a transaction (in a cluster, all
	// its keys must share a slot). The cmds slice escapes to the heap when
	// called through the interface: reuse one to save that allocation.
	DoMultiCmd(ctx context.Context, cmds ...Command) ([]resp.Value, error)
}

// Universal is what an application holds so that it is written once and
// runs against a standalone server (*Client) or a Redis Cluster
// (*cluster.Client): commands, batches, blocking commands (BLPOP, BLMOVE,
// XREAD BLOCK ... run on a connection of their own, by themselves),
// optimistic transactions (Watch), scripts (Script.Run on it), client-side
// caching (DoCacheCmd, DoMultiCacheCmd) and Close.
type Universal interface {
	Doer
	// DoCacheCmd answers a cacheable read from the client-side cache or
	// reads it from the server and caches it for at most ttl (see
	// Client.DoCache for the rules); a hit allocates nothing.
	DoCacheCmd(ctx context.Context, ttl time.Duration, cmd Command) (resp.Value, error)
	// DoMultiCacheCmd is DoCacheCmd for many commands: hits answered
	// locally, misses sent in one write (per node in a cluster), replies
	// in order.
	DoMultiCacheCmd(ctx context.Context, ttl time.Duration, cmds ...Command) ([]resp.Value, error)
	// Watch runs fn on a connection of its own, on which it first sends
	// WATCH keys (none: no WATCH), for a check-and-set transaction: fn
	// reads, then sends MULTI ... EXEC in one DoMultiCmd, whose EXEC
	// reply is null when a watched key changed meanwhile. In a cluster
	// the connection is to the master of the keys' slot, which they must
	// share, and fn's commands must stay in that slot. Watch returns fn's
	// error, or why it could not run fn; the connection is reset (UNWATCH,
	// DISCARD) before another caller gets it.
	Watch(ctx context.Context, fn func(tx Doer) error, keys ...string) error
	// Close closes every connection; the first call does the work, every
	// other returns nil at once. Calls made after it fail with an error
	// wrapping ErrClosed.
	Close() error
}

var (
	_ Doer      = (*Conn)(nil)
	_ Universal = (*Client)(nil)
)

// Watch runs fn on a dedicated Conn (see Dedicated), after sending WATCH
// keys on it when there are any. It returns fn's error, or the error of
// getting the Conn or of WATCH.
func (c *Client) Watch(ctx context.Context, fn func(tx Doer) error, keys ...string) error {
	return c.Dedicated(ctx, func(cn *Conn) error {
		if err := sendWatch(ctx, cn, keys); err != nil {
			return err
		}
		return fn(cn)
	})
}

// sendWatch sends WATCH keys on cn, if there are keys.
func sendWatch(ctx context.Context, cn *Conn, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := cn.DoCmd(ctx, Cmd("WATCH", keys...))
	return err
}
