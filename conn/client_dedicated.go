package conn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/respwire/respwire/resp"
)

// Dedicated runs fn with a Conn of its own, on which no other goroutine's
// commands are interleaved: for WATCH, MULTI and EXEC, and for anything else
// that keeps state on the connection (SELECT, CLIENT REPLY, CLIENT
// TRACKING, MONITOR, Send's subscriptions, ...), which the Client's Do and
// DoMulti refuse (see ErrSharedState). fn must not close the Conn or keep
// it after it returns.
//
// After fn, the Conn goes back to the Client's pool only if it is as clean
// as a fresh one: still open, ctx not ended (a reply could still be on its
// way), fn sent no command that keeps state beyond a transaction (any of
// those above: the Conn cannot tell what fn changed back), and DISCARD and
// UNWATCH, sent to drop whatever transaction fn left, answered in time.
// Otherwise it is closed, and the next caller gets a newly dialled Conn.
// Dedicated returns fn's error, or the error of getting a Conn (ErrClosed
// after Close).
func (c *Client) Dedicated(ctx context.Context, fn func(*Conn) error) error {
	cn, err := c.lend(ctx)
	if err != nil {
		return err
	}
	reuse := false
	defer func() { c.pool.put(cn, reuse) }() // closes cn if fn panics
	err = fn(cn)
	reuse = resetDedicated(ctx, cn)
	return err
}

// resetTimeout bounds the reset after Dedicated's fn: a Conn that does not
// answer DISCARD and UNWATCH by then (fn turned replies off, or the server
// is stuck) is closed rather than waited for.
const resetTimeout = time.Second

// resetDedicated drops what fn may have left on cn (a MULTI without EXEC,
// watched keys) and reports whether cn is fit for another caller: not if fn
// sent a command that left other state on it.
func resetDedicated(ctx context.Context, cn *Conn) bool {
	if ctx.Err() != nil || cn.State() != StateOpen || cn.carriesState.Load() {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, resetTimeout)
	defer cancel()
	// DISCARD fails harmlessly outside MULTI; UNWATCH answers OK, unless
	// fn left the connection in a state no other caller should inherit.
	replies, err := cn.doOwn(ctx, []string{"DISCARD"}, []string{"UNWATCH"})
	if err != nil || len(replies) != 2 {
		return false
	}
	ok, err := replies[1].Text()
	return err == nil && ok == "OK"
}

// lend takes a Conn from the pool, or returns errClientClosed after Close.
// While the shared Conn's redials fail, and when its own dial fails, it
// returns an error wrapping the dial's (see unreachable); when ctx ended
// the dial, one that wraps ctx.Err() and the dial's.
func (c *Client) lend(ctx context.Context) (*Conn, error) {
	if State(c.state.Load()) != StateOpen {
		return nil, errClientClosed
	}
	c.mu.Lock()
	dialErr := c.dialErr
	c.mu.Unlock()
	if dialErr != nil {
		return nil, unreachable(dialErr)
	}
	cn, err := c.pool.get(ctx)
	if ended := endedBy(ctx); err != nil && ended != nil {
		c.stats.timeouts.Add(1) // waited for a Conn, or dialled one, until ctx ended
		if !errors.Is(err, ended) {
			// The dial's error says "i/o timeout" or quotes ctx's: the
			// server is not known to be unreachable, ctx ended.
			err = fmt.Errorf("conn: %w while dialling a dedicated connection: %w", ended, err)
		}
		if !SafeToRetry(err) {
			err = &unsentError{cause: err}
		}
		return nil, err
	}
	if err != nil && !SafeToRetry(err) {
		return nil, unreachable(err)
	}
	return cn, err
}

// endedBy returns why ctx has ended, or nil: ctx.Err(), or
// context.DeadlineExceeded once its deadline has passed, since a dial's
// socket deadline, taken from ctx's, may expire before ctx's own timer has
// fired.
func endedBy(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// doOwn is DoMulti for the Client's own commands on a Conn (the reset
// after Dedicated): they are not the caller's, so no hook reports them and
// the Conn's Stats count neither their replies (DISCARD's error reply
// outside a transaction) nor a withdrawal when ctx ends.
func (c *Conn) doOwn(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	if ended(ctx) {
		return nil, ctx.Err()
	}
	vals := make([]resp.Value, len(cmds))
	r := c.getRequest(shapeMany)
	r.vals, r.uncounted = vals, true
	if err := c.lock(ctx, r); err != nil {
		recycle(r)
		return nil, err
	}
	for _, args := range cmds {
		if kind := commandState(args); kind != stateNone {
			c.noteState(kind, args)
		}
		c.wbuf = resp.AppendCommand(c.wbuf, args...)
	}
	c.unlock(r)
	if err := c.wait(ctx, r, nil); err != nil {
		return nil, err
	}
	recycle(r)
	return vals, nil
}

// doBlocking runs a blocking command on a dedicated Conn.
func (c *Client) doBlocking(ctx context.Context, args []string) (resp.Value, error) {
	var v resp.Value
	err := c.onDedicated(ctx, func(cn *Conn) (err error) {
		v, err = cn.Do(ctx, args...)
		return err
	})
	return v, err
}

// doMultiBlocking runs commands, one of them at least blocking, on a
// dedicated Conn.
func (c *Client) doMultiBlocking(ctx context.Context, cmds [][]string) ([]resp.Value, error) {
	var vs []resp.Value
	err := c.onDedicated(ctx, func(cn *Conn) (err error) {
		vs, err = cn.DoMulti(ctx, cmds...)
		return err
	})
	return vs, err
}

// maxDedicatedAttempts bounds how many pooled Conns a blocking command
// tries when each refuses it unwritten (they died while idle: the server
// restarted).
const maxDedicatedAttempts = defaultMaxIdle + 1

// onDedicated runs call on a pooled Conn, and on another if the first
// refused it unwritten. The Conn goes back to the pool only if call got its
// reply: one that ended by ctx still has a reply pending, which a blocking
// command may not send for a long time, so it is closed.
func (c *Client) onDedicated(ctx context.Context, call func(*Conn) error) error {
	for attempt := 1; ; attempt++ {
		cn, err := c.lend(ctx)
		if err != nil {
			return err
		}
		err = call(cn)
		var serverErr *resp.Error
		c.pool.put(cn, err == nil || errors.As(err, &serverErr))
		if !retryable(err) || attempt == maxDedicatedAttempts {
			return err
		}
	}
}
