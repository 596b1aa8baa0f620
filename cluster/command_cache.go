package cluster

import (
	"context"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// DoCacheCmd is DoCache for a conn.Command: routed by its keys to the
// master of their slot, whose conn.Client.DoCacheCmd answers a hit without
// allocating. A redirect, or a node not yet connected, is followed as
// DoCache follows it, with a copy of the arguments (the cache keeps them).
func (c *Client) DoCacheCmd(ctx context.Context, ttl time.Duration, cmd conn.Command) (resp.Value, error) {
	n := cmd.Len()
	if n > viewArgs {
		return c.DoCache(ctx, ttl, cmd.Strings()...)
	}
	var args [viewArgs]string
	for i := range n {
		if s, ok := cmd.Text(i); ok {
			args[i] = s
		} else {
			args[i] = numberArg(&cmd, i)
		}
	}
	view := args[:n]
	info, err := c.command(ctx, view)
	if err != nil {
		return resp.Value{}, err
	}
	slot, cross := info.keySlot(view)
	if cross {
		return resp.Value{}, crossSlot(cmd.Name())
	}
	if nd := c.table.Load().pick(slot, false); nd != nil {
		if cl := nd.client.Load(); cl != nil {
			v, err := cl.DoCacheCmd(ctx, ttl, cmd)
			if err == nil {
				return v, nil
			}
			return c.followCache(ctx, &attempt{slot: slot, target: nd}, ttl, cmd.Strings(), v, err)
		}
	}
	return c.DoCache(ctx, ttl, cmd.Strings()...)
}

// DoMultiCacheCmd is DoMultiCache for conn.Commands, which it copies to
// strings of their own first: the cache keeps the commands it reads.
func (c *Client) DoMultiCacheCmd(ctx context.Context, ttl time.Duration, cmds ...conn.Command) ([]resp.Value, error) {
	copies := make([][]string, len(cmds))
	for i := range cmds {
		copies[i] = cmds[i].Strings()
	}
	return c.DoMultiCache(ctx, ttl, copies...)
}
