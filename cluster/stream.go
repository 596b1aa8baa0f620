package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/appendbuf"
	"github.com/respwire/respwire/resp"
)

// DoStream is conn.Client.DoStream routed as Do routes: the command goes
// to the node that serves its keys, MOVED and ASK redirects and retries
// are followed as for Do while nothing has been written to w. The reply's
// bulk string is written to w as it comes off the socket, except after an
// ASK redirect, where ASKING and the command go together and the reply is
// read whole and then written. A command that fans out to many nodes is
// refused, unsent.
func (c *Client) DoStream(ctx context.Context, w io.Writer, args ...string) (int64, error) {
	info, err := c.command(ctx, args)
	if err != nil {
		return 0, err
	}
	info = info.resolve(args)
	slot, cross := info.keySlot(args)
	if info.request != requestDefault && info.fansOut(args, slot, cross) {
		return 0, fmt.Errorf("cluster: DoStream: %s fans out to many nodes: use Do", args[0])
	}
	if cross {
		return 0, crossSlot(args[0])
	}
	a := &attempt{slot: slot, toReplica: c.opts.ReadReplicas && info.readonly() && !info.blocking()}
	n, err := c.sendStream(ctx, a, w, args)
	for err != nil && n == 0 && !finalStreamError(err) {
		wait, stop := c.next(ctx, a, args[0], err)
		if stop != nil {
			return 0, stop
		}
		if wait {
			if stop := c.backoff(ctx, a.retries); stop != nil {
				return 0, withCause(stop, a.cause)
			}
		}
		n, err = c.sendStream(ctx, a, w, args)
	}
	return n, err
}

// DoBuffer is DoStream into memory, as conn.Client.DoBuffer: it appends the
// bulk string to dst and returns the extended slice; with an error, dst as
// given.
func (c *Client) DoBuffer(ctx context.Context, dst []byte, args ...string) ([]byte, error) {
	b := appendbuf.Writer{Buf: dst}
	if _, err := c.DoStream(ctx, &b, args...); err != nil {
		return dst, err
	}
	return b.Buf, nil
}

// finalStreamError reports whether err, from a try of DoStream, is the
// command's answer rather than a reason to try again: a null, a reply of
// another kind, or the writer's failure.
func finalStreamError(err error) bool {
	var we *resp.WriteError
	return errors.Is(err, resp.ErrNull) || errors.Is(err, conn.ErrNotBulk) || errors.As(err, &we)
}

// sendStream makes one try of a, a DoStream of args to w.
func (c *Client) sendStream(ctx context.Context, a *attempt, w io.Writer, args []string) (int64, error) {
	cl, err := c.connFor(ctx, a)
	if err != nil {
		return 0, err
	}
	defer a.target.release()
	if !a.asking {
		return cl.DoStream(ctx, w, args...)
	}
	replies, err := cl.DoMulti(ctx, []string{"ASKING"}, args)
	if err != nil {
		return 0, err
	}
	if len(replies) != 2 {
		return 0, fmt.Errorf("cluster: %d replies to ASKING and a command", len(replies))
	}
	v := replies[1]
	switch {
	case v.Err() != nil:
		return 0, v.Err()
	case v.IsNull():
		return 0, resp.ErrNull
	case v.Kind() != resp.BulkString:
		return 0, fmt.Errorf("%w: a %v reply", conn.ErrNotBulk, v.Kind())
	}
	s, _ := v.Text()
	k, err := io.WriteString(w, s)
	if err != nil {
		return int64(k), &resp.WriteError{Err: err}
	}
	return int64(k), nil
}
