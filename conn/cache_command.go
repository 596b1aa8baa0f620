package conn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/respwire/respwire/resp"
)

// cacheCommand is what DoCache knows of one command name, from the server's
// COMMAND INFO: where its keys are, or why it may not be cached.
type cacheCommand struct {
	first, last, step int    // key positions, as COMMAND INFO gives them
	refusal           string // why it is not cacheable; "" if it is
	unknown           bool   // the server doesn't know the command
}

// cacheKeys returns the keys args reads, or an error when args is not a
// cacheable command: it must be read-only, not blocking, with keys at fixed
// positions (no "movablekeys") and deterministic output. The Client asks
// the server about each command name once (COMMAND INFO) and remembers the
// answer; a failed question, or a name the server doesn't know, is asked
// about again on the next call.
func (c *Client) cacheKeys(ctx context.Context, args []string) ([]string, error) {
	name := strings.ToLower(args[0])
	var cmd *cacheCommand
	if known, ok := c.cache.commands.Load(name); ok {
		cmd = known.(*cacheCommand)
	} else {
		v, err := c.Do(ctx, "COMMAND", "INFO", name)
		if err != nil {
			return nil, fmt.Errorf("conn: DoCache: COMMAND INFO %s: %w", name, err)
		}
		if cmd, err = parseCacheCommand(v); err != nil {
			return nil, fmt.Errorf("conn: DoCache: COMMAND INFO %s: %w", name, err)
		}
		if !cmd.unknown {
			// Bounded by the server's command table: names it doesn't
			// know are asked about again rather than remembered.
			c.cache.commands.Store(name, cmd)
		}
	}
	if cmd.refusal != "" {
		return nil, fmt.Errorf("conn: DoCache: %s is not cacheable: %s", args[0], cmd.refusal)
	}
	keys := cmd.keys(args)
	if len(keys) == 0 {
		return nil, fmt.Errorf("conn: DoCache: %s with %d arguments names no key", args[0], len(args)-1)
	}
	return keys, nil
}

// keys returns the arguments of args at the command's key positions.
func (cmd *cacheCommand) keys(args []string) []string {
	last := cmd.last
	if last < 0 {
		last += len(args)
	}
	last = min(last, len(args)-1)
	var keys []string
	for i := cmd.first; i <= last; i += cmd.step {
		keys = append(keys, args[i])
	}
	return keys
}

var errCommandInfo = errors.New("not a command description")

// parseCacheCommand reads the reply to COMMAND INFO name: an array holding
// null (an unknown command) or the command's description, [name, arity,
// flags, first key, last key, step, ACL categories, tips, ...].
func parseCacheCommand(v resp.Value) (*cacheCommand, error) {
	if v.Kind() != resp.Array || len(v.Elems()) != 1 {
		return nil, fmt.Errorf("%w: %v", errCommandInfo, v.Kind())
	}
	d := v.Elems()[0]
	if d.IsNull() {
		return &cacheCommand{refusal: "the server doesn't know it", unknown: true}, nil
	}
	f := d.Elems()
	if len(f) < 6 {
		return nil, fmt.Errorf("%w: %d fields", errCommandInfo, len(f))
	}
	var pos [3]int64
	for i := range pos {
		n, err := f[3+i].Int()
		if err != nil {
			return nil, fmt.Errorf("%w: key position: %w", errCommandInfo, err)
		}
		pos[i] = n
	}
	cmd := &cacheCommand{first: int(pos[0]), last: int(pos[1]), step: int(pos[2])}
	flags := map[string]bool{}
	for _, fl := range f[2].Elems() {
		s, _ := fl.Text()
		flags[strings.ToLower(s)] = true
	}
	nondeterministic := false
	if len(f) > 7 {
		for _, tip := range f[7].Elems() {
			s, _ := tip.Text()
			nondeterministic = nondeterministic || strings.EqualFold(s, "nondeterministic_output")
		}
	}
	switch {
	case !flags["readonly"]:
		cmd.refusal = "it is not read-only"
	case flags["blocking"]:
		cmd.refusal = "it may block"
	case flags["movablekeys"]:
		cmd.refusal = "its keys are not at fixed positions"
	case nondeterministic:
		cmd.refusal = "its output is not deterministic"
	case cmd.first <= 0 || cmd.step <= 0:
		cmd.refusal = "it reads no key"
	}
	return cmd, nil
}
