package conn

import (
	"context"
	"time"
	"unsafe"

	"github.com/respwire/respwire/resp"
)

// cacheViewArgs is how many arguments of a Command a cache lookup views on
// the stack; a longer command is looked up through its copy.
const cacheViewArgs = 16

// DoCacheCmd is DoCache for a Command. A hit costs no allocation, as for
// DoCache: the lookup views cmd's arguments as strings on the stack. A miss
// copies them (the cache keeps the command, and a []byte argument may change
// after the call) and reads through DoCache.
func (c *Client) DoCacheCmd(ctx context.Context, ttl time.Duration, cmd Command) (resp.Value, error) {
	if v, ok := c.lookupCmd(&cmd, ttl); ok {
		return v, nil
	}
	return c.DoCache(ctx, ttl, cmd.Strings()...)
}

// DoMultiCacheCmd is DoMultiCache for Commands. A batch that hits for every
// command costs what DoMultiCache's does (the reply slice); one with a miss
// copies the Commands' arguments and reads through DoMultiCache.
func (c *Client) DoMultiCacheCmd(ctx context.Context, ttl time.Duration, cmds ...Command) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	vals := make([]resp.Value, len(cmds))
	for i := range cmds {
		v, ok := c.lookupCmd(&cmds[i], ttl)
		if !ok {
			copies := make([][]string, len(cmds))
			for j := range cmds {
				copies[j] = cmds[j].Strings()
			}
			return c.DoMultiCache(ctx, ttl, copies...)
		}
		vals[i] = v
	}
	return vals, nil
}

// lookupCmd looks cmd up in the Client's cache, by the same strings DoCache
// would be given (Strings), without allocating.
func (c *Client) lookupCmd(cmd *Command, ttl time.Duration) (resp.Value, bool) {
	cc := c.cache
	if cc.cache == nil || ttl <= 0 || cmd.n == 0 || cmd.n > cacheViewArgs {
		return resp.Value{}, false
	}
	// The view and the number text stay on this stack: Lookup keeps
	// nothing of its arguments.
	var args [cacheViewArgs]string
	var scratch [cacheViewArgs * 24]byte
	text := scratch[:0]
	for i := range cmd.n {
		a := cmd.at(i)
		if a.kind == argText {
			args[i] = a.s
			continue
		}
		start := len(text)
		text = a.appendText(text)
		args[i] = unsafe.String(unsafe.SliceData(text[start:]), len(text)-start)
	}
	return cc.cache.store.Lookup(cc.ns, args[:cmd.n])
}
