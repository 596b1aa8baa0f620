package conn

import (
	"time"
	"unsafe"

	"github.com/respwire/respwire/resp"
)

// cacheViewArgs is how many arguments of a Command a cache lookup views on
// the stack; a longer command is looked up through its copy.
const cacheViewArgs = 16

// lookupCmd looks cmd up in the Client's cache, by the same strings DoCache
// would be given (Strings), without allocating, number arguments included:
// their text is formatted on the stack, since Lookup keeps nothing of its
// arguments. DoCacheCmd asks it first.
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

// lookupAll returns the cached replies of every command of cmds, if the
// cache holds all of them.
func (c *Client) lookupAll(cmds []Command, ttl time.Duration) ([]resp.Value, bool) {
	if len(cmds) == 0 || c.cache.cache == nil {
		return nil, false
	}
	vals := make([]resp.Value, len(cmds))
	for i := range cmds {
		v, ok := c.lookupCmd(&cmds[i], ttl)
		if !ok {
			return nil, false
		}
		vals[i] = v
	}
	return vals, true
}
