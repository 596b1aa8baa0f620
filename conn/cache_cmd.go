package conn

import (
	"context"
	"time"

	"github.com/respwire/respwire/resp"
)

// DoCacheCmd is DoCache for a Command, the form Universal offers: a hit
// costs no allocation when every argument is a string or a []byte and there
// are at most 16 of them (a number argument's text, or a longer command,
// takes a copy). The cache keeps copies of what it stores, so the Command's
// []byte arguments may be reused once the call returns.
func (c *Client) DoCacheCmd(ctx context.Context, ttl time.Duration, cmd Command) (resp.Value, error) {
	var buf [headArgs]string
	args := cmdText(&cmd, &buf)
	return c.DoCache(ctx, ttl, args...)
}

// DoMultiCacheCmd is DoMultiCache for Commands.
func (c *Client) DoMultiCacheCmd(ctx context.Context, ttl time.Duration, cmds ...Command) ([]resp.Value, error) {
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
