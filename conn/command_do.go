package conn

import (
	"context"

	"github.com/respwire/respwire/resp"
)

// DoCmd is Do for a Command: it sends cmd and returns its reply, encoding
// its arguments of every type straight into the write buffer. It allocates
// no more than Do does (a GET its value, a SET nothing).
func (c *Conn) DoCmd(ctx context.Context, cmd Command) (resp.Value, error) {
	return c.doCmd(ctx, &cmd)
}

// doCmd is DoCmd without copying cmd again, for Client.
func (c *Conn) doCmd(ctx context.Context, cmd *Command) (resp.Value, error) {
	if h := c.hooks; h != nil && h.Command != nil {
		return c.doCmdHooked(ctx, cmd)
	}
	return c.doCmdWritten(ctx, cmd, nil)
}

// doCmdWritten is doCmd, setting written as Conn.do does.
func (c *Conn) doCmdWritten(ctx context.Context, cmd *Command, written *bool) (resp.Value, error) {
	var buf [headArgs]string
	args := cmd.head(&buf)
	if err := checkCommand(args); err != nil {
		return resp.Value{}, err
	}
	if ended(ctx) {
		return resp.Value{}, c.ctxEnded(ctx)
	}
	kind := commandState(args)
	r := c.getRequest(shapeOne)
	r.blocking = isBlocking(args)
	if err := c.lock(ctx, r); err != nil {
		recycle(r)
		return resp.Value{}, err
	}
	if kind != stateNone {
		c.noteState(kind, args)
	}
	c.wbuf = cmd.appendTo(c.wbuf)
	c.unlock(r)
	if err := c.wait(ctx, r, written); err != nil {
		return resp.Value{}, err
	}
	v := r.val
	recycle(r)
	return v, v.Err()
}

// DoMultiCmd is DoMulti for Commands: they are written back to back, with no
// other caller's command between them, and their replies returned in order.
func (c *Conn) DoMultiCmd(ctx context.Context, cmds ...Command) ([]resp.Value, error) {
	if h := c.hooks; h != nil && h.Pipeline != nil && len(cmds) > 0 {
		return c.doMultiCmdHooked(ctx, cmds)
	}
	return c.doMultiCmd(ctx, cmds, nil)
}

// doMultiCmd is DoMultiCmd, setting written as Conn.do does.
func (c *Conn) doMultiCmd(ctx context.Context, cmds []Command, written *bool) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	var buf [headArgs]string
	blocking, stateful := false, false
	for i := range cmds {
		args := cmds[i].head(&buf)
		if err := checkCommand(args); err != nil {
			return nil, err
		}
		blocking = blocking || isBlocking(args)
		stateful = stateful || commandState(args) != stateNone
	}
	if ended(ctx) {
		return nil, c.ctxEnded(ctx)
	}
	c.multis.Add(1)
	defer c.multis.Add(-1)
	vals := make([]resp.Value, len(cmds))
	r := c.getRequest(shapeMany)
	r.vals = vals
	r.blocking = blocking
	if err := c.lock(ctx, r); err != nil {
		recycle(r)
		return nil, err
	}
	if stateful {
		for i := range cmds {
			args := cmds[i].head(&buf)
			if kind := commandState(args); kind != stateNone {
				c.noteState(kind, args)
			}
		}
	}
	for i := range cmds {
		c.wbuf = cmds[i].appendTo(c.wbuf)
	}
	c.unlock(r)
	if err := c.wait(ctx, r, written); err != nil {
		return nil, err
	}
	recycle(r)
	return vals, nil
}

// checkSharedCmds is checkSharedBatch for Commands. A batch none of whose
// commands touches the connection's state (the common case) passes without
// allocating; the others are checked by their leading arguments.
func checkSharedCmds(cmds []Command) error {
	var buf [headArgs]string
	plain := true
	for i := range cmds {
		if commandState(cmds[i].head(&buf)) != stateNone {
			plain = false
			break
		}
	}
	if plain {
		return nil
	}
	heads := make([][]string, len(cmds))
	for i := range cmds {
		heads[i] = append([]string(nil), cmds[i].head(&buf)...)
	}
	return checkSharedBatch(heads)
}

// isBlockingCmd is isBlocking for a Command.
func isBlockingCmd(cmd *Command) bool {
	var buf [headArgs]string
	return isBlocking(cmd.head(&buf))
}

// DoCmd is Do for a Command: on the shared Conn, or on a dedicated one for
// a blocking command, sent again on the next Conn only when it was never
// written; a command that would change the shared Conn's state is refused
// unsent (ErrSharedState). It allocates no more than Do does.
func (c *Client) DoCmd(ctx context.Context, cmd Command) (resp.Value, error) {
	var head [headArgs]string
	args := cmd.head(&head)
	if err := checkShared(args); err != nil {
		return resp.Value{}, err
	}
	if isBlocking(args) {
		var v resp.Value
		err := c.onDedicated(ctx, func(cn *Conn) (err error) {
			v, err = cn.doCmd(ctx, &cmd)
			return err
		})
		return v, err
	}
	cn := c.current.Load()
	for {
		v, err := cn.doCmd(ctx, &cmd)
		if !retryable(err) {
			return v, err
		}
		if cn, err = c.next(ctx, cn); err != nil {
			return resp.Value{}, err
		}
	}
}

// DoMultiCmd is DoMulti for Commands: written contiguously, replies in
// order; if any of them is blocking, all of them run on a dedicated Conn. A
// batch that would leave state on the shared Conn is refused unsent
// (ErrSharedState); MULTI ... EXEC whole within it is allowed, and costs
// two allocations more for the check.
func (c *Client) DoMultiCmd(ctx context.Context, cmds ...Command) ([]resp.Value, error) {
	if err := checkSharedCmds(cmds); err != nil {
		return nil, err
	}
	for i := range cmds {
		if isBlockingCmd(&cmds[i]) {
			var vs []resp.Value
			err := c.onDedicated(ctx, func(cn *Conn) (err error) {
				vs, err = cn.DoMultiCmd(ctx, cmds...)
				return err
			})
			return vs, err
		}
	}
	cn := c.current.Load()
	for {
		vs, err := cn.DoMultiCmd(ctx, cmds...)
		if !retryable(err) {
			return vs, err
		}
		if cn, err = c.next(ctx, cn); err != nil {
			return nil, err
		}
	}
}
