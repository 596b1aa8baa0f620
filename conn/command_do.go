package conn

import (
	"context"

	"github.com/respwire/respwire/resp"
)

// DoCmd is Do for a Command: it sends cmd and returns its reply, encoding
// its arguments of every type straight into the write buffer. It allocates
// no more than Do does (a GET its value, a SET nothing).
func (c *Conn) DoCmd(ctx context.Context, cmd Command) (resp.Value, error) {
	if err := checkCmd(&cmd); err != nil {
		return resp.Value{}, err
	}
	if ended(ctx) {
		return resp.Value{}, ctx.Err()
	}
	r := c.getRequest(shapeOne)
	if err := c.lock(r); err != nil {
		recycle(r)
		return resp.Value{}, err
	}
	c.wbuf = cmd.AppendTo(c.wbuf)
	c.unlock(r)
	if err := c.wait(ctx, r); err != nil {
		return resp.Value{}, err
	}
	v := r.val
	recycle(r)
	return v, v.Err()
}

// DoMultiCmd is DoMulti for Commands: they are written back to back, with no
// other caller's command between them, and their replies returned in order.
func (c *Conn) DoMultiCmd(ctx context.Context, cmds ...Command) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	for i := range cmds {
		if err := checkCmd(&cmds[i]); err != nil {
			return nil, err
		}
	}
	if ended(ctx) {
		return nil, ctx.Err()
	}
	vals := make([]resp.Value, len(cmds))
	r := c.getRequest(shapeMany)
	r.vals = vals
	if err := c.lock(r); err != nil {
		recycle(r)
		return nil, err
	}
	for i := range cmds {
		c.wbuf = cmds[i].AppendTo(c.wbuf)
	}
	c.unlock(r)
	if err := c.wait(ctx, r); err != nil {
		return nil, err
	}
	recycle(r)
	return vals, nil
}

// checkCmd applies Do's checks (checkCommand) to cmd's leading arguments.
func checkCmd(cmd *Command) error {
	var buf [headArgs]string
	return checkCommand(cmd.head(&buf))
}

// isBlockingCmd is isBlocking for a Command.
func isBlockingCmd(cmd *Command) bool {
	var buf [headArgs]string
	return isBlocking(cmd.head(&buf))
}

// DoCmd is Do for a Command: on the shared Conn, or on a dedicated one for
// a blocking command, sent again on the next Conn only when it was never
// written. It allocates no more than Do does.
func (c *Client) DoCmd(ctx context.Context, cmd Command) (resp.Value, error) {
	if isBlockingCmd(&cmd) {
		var v resp.Value
		err := c.onDedicated(ctx, func(cn *Conn) (err error) {
			v, err = cn.DoCmd(ctx, cmd)
			return err
		})
		return v, err
	}
	cn := c.current.Load()
	for {
		v, err := cn.DoCmd(ctx, cmd)
		if !retryable(err) {
			return v, err
		}
		if cn, err = c.next(ctx, cn); err != nil {
			return resp.Value{}, err
		}
	}
}

// DoMultiCmd is DoMulti for Commands: written contiguously, replies in
// order; if any of them is blocking, all of them run on a dedicated Conn.
func (c *Client) DoMultiCmd(ctx context.Context, cmds ...Command) ([]resp.Value, error) {
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
