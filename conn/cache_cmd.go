package conn

import (
	"context"
	"time"

	"github.com/respwire/respwire/resp"
)

// DoCacheCmd is DoCache for a Command, the form Universal offers: a hit
// costs no allocation when the command has at most 16 arguments, of any
// type (see lookupCmd); a miss with a number argument, or a longer
// command, takes a copy. The cache keeps copies of what it stores, so the Command's
// []byte arguments may be reused once the call returns.
func (c *Client) DoCacheCmd(ctx context.Context, ttl time.Duration, cmd Command) (resp.Value, error) {
	if v, ok := c.lookupCmd(&cmd, ttl); ok {
		c.cacheHitName(cmd.Name())
		return v, nil // a hit, numbers or not, without allocating
	}
	var buf [headArgs]string
	args := cmdText(&cmd, &buf)
	return c.DoCache(ctx, ttl, args...)
}

// DoMultiCacheCmd is DoMultiCache for Commands. A batch that hits for
// every command costs only its reply slice; one with a miss copies the
// Commands' text.
func (c *Client) DoMultiCacheCmd(ctx context.Context, ttl time.Duration, cmds ...Command) ([]resp.Value, error) {
	if vals, ok := c.lookupAll(cmds, ttl); ok {
		for i := range cmds {
			c.cacheHitName(cmds[i].Name())
		}
		return vals, nil
	}
	all := make([][]string, len(cmds))
	for i := range cmds {
		all[i] = cmds[i].Strings()
	}
	return c.DoMultiCache(ctx, ttl, all...)
}

// cmdText returns cmd's arguments as strings: viewed in buf, without
// copying, when they all are text and fit; else a copy of their text.
func cmdText(cmd *Command, buf *[headArgs]string) []string {
	if cmd.n > len(buf) {
		return cmd.Strings()
	}
	for i := 0; i < cmd.n; i++ {
		a := cmd.at(i)
		if a.kind != argText {
			return cmd.Strings()
		}
		buf[i] = a.s
	}
	return buf[:cmd.n]
}
