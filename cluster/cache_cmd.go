package cluster

import (
	"context"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// DoCacheCmd is DoCache for a conn.Command, viewing its arguments as DoCmd
// does: a hit allocates nothing. The cache keeps copies of what it stores.
func (c *Client) DoCacheCmd(ctx context.Context, ttl time.Duration, cmd conn.Command) (resp.Value, error) {
	n := cmd.Len()
	if n > viewArgs {
		return c.DoCache(ctx, ttl, viewCommands([]conn.Command{cmd})[0]...)
	}
	var args [viewArgs]string
	for i := range n {
		if s, ok := cmd.Text(i); ok {
			args[i] = s
		} else {
			args[i] = numberArg(&cmd, i)
		}
	}
	return c.DoCache(ctx, ttl, args[:n]...)
}

// DoMultiCacheCmd is DoMultiCache for conn.Commands.
func (c *Client) DoMultiCacheCmd(ctx context.Context, ttl time.Duration, cmds ...conn.Command) ([]resp.Value, error) {
	return c.DoMultiCache(ctx, ttl, viewCommands(cmds)...)
}
