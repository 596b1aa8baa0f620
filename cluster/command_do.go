package cluster

import (
	"context"
	"unsafe"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

var _ conn.Universal = (*Client)(nil)

const (
	// viewArgs is how many arguments of a Command DoCmd views on its
	// stack; a longer command's view takes one allocation.
	viewArgs = 32
)

// DoCmd is Do for a conn.Command: routed by its keys (a []byte key or a
// number key hashes as its bytes or its decimal text), following MOVED and
// ASK, refused with ErrCrossSlot when its keys span slots. It allocates no
// more than Do does: it views the Command's arguments as strings, without
// copying them, and number arguments' text takes a few bytes of a shared
// slab (one 16 KiB allocation per some thousands of numbers).
func (c *Client) DoCmd(ctx context.Context, cmd conn.Command) (resp.Value, error) {
	n := cmd.Len()
	if n > viewArgs {
		return c.Do(ctx, viewCommands([]conn.Command{cmd})[0]...)
	}
	// The view stays on the stack as long as Do keeps its arguments from
	// escaping; number text lives in a slab either way (see textSlab).
	var args [viewArgs]string
	for i := range n {
		if s, ok := cmd.Text(i); ok {
			args[i] = s
		} else {
			args[i] = numberArg(&cmd, i)
		}
	}
	return c.Do(ctx, args[:n]...)
}

// DoMultiCmd is DoMulti for conn.Commands: split by node, answered in
// order, every command following its own redirects. Viewing the Commands as
// strings costs three allocations for the whole batch.
func (c *Client) DoMultiCmd(ctx context.Context, cmds ...conn.Command) ([]resp.Value, error) {
	return c.DoMulti(ctx, viewCommands(cmds)...)
}

// viewCommands returns cmds as string arguments that share the Commands'
// memory (see conn.Command.Text), for the duration of one call.
func viewCommands(cmds []conn.Command) [][]string {
	total := 0
	for i := range cmds {
		total += cmds[i].Len()
	}
	all := make([]string, 0, total)
	views := make([][]string, len(cmds))
	var text []byte
	for i := range cmds {
		start := len(all)
		for j := range cmds[i].Len() {
			if s, ok := cmds[i].Text(j); ok {
				all = append(all, s)
				continue
			}
			// When text grows it moves: the earlier strings keep the
			// old array alive, and nothing writes it again.
			from := len(text)
			text = cmds[i].AppendArg(text, j)
			all = append(all, unsafe.String(unsafe.SliceData(text[from:]), len(text)-from))
		}
		views[i] = all[start:len(all):len(all)]
	}
	return views
}
