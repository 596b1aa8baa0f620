package conn

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/resp"
)

// The hooked paths: Do, DoCmd, DoMulti and DoMultiCmd take them only when
// their hook is set, so the others pay one nil check (see Hooks).

// doHooked is Do with Hooks.Command set.
func (c *Conn) doHooked(ctx context.Context, args []string) (resp.Value, error) {
	start := time.Now()
	var written bool
	v, err := c.do(ctx, args, &written)
	e := CommandEvent{Addr: c.addr, DB: c.db, Start: start, Duration: time.Since(start), Err: err, Written: written}
	if len(args) > 0 {
		e.Name = args[0]
	}
	if c.hooks.Statement {
		e.Statement = statement(stringArgs(args))
	}
	c.fireCommand(ctx, &e)
	return v, err
}

// doStreamHooked is DoStream with Hooks.Command set.
func (c *Conn) doStreamHooked(ctx context.Context, w io.Writer, args []string) (int64, error) {
	start := time.Now()
	var written bool
	n, err := c.doStream(ctx, w, args, &written)
	e := CommandEvent{Addr: c.addr, DB: c.db, Start: start, Duration: time.Since(start), Err: err, Written: written}
	if len(args) > 0 {
		e.Name = args[0]
	}
	if c.hooks.Statement {
		e.Statement = statement(stringArgs(args))
	}
	c.fireCommand(ctx, &e)
	return n, err
}

// doCmdHooked is doCmd with Hooks.Command set.
func (c *Conn) doCmdHooked(ctx context.Context, cmd *Command) (resp.Value, error) {
	start := time.Now()
	var written bool
	v, err := c.doCmdWritten(ctx, cmd, &written)
	e := CommandEvent{Name: cmd.Name(), Addr: c.addr, DB: c.db, Start: start, Duration: time.Since(start), Err: err, Written: written}
	if c.hooks.Statement {
		e.Statement = statement(commandArgs(cmd))
	}
	c.fireCommand(ctx, &e)
	return v, err
}

// doMultiHooked is doMultiInspected with Hooks.Pipeline set.
func (c *Conn) doMultiHooked(ctx context.Context, cmds [][]string, info batchInfo) ([]resp.Value, error) {
	start := time.Now()
	var written bool
	vals, err := c.doMulti(ctx, cmds, info, &written)
	e := PipelineEvent{Len: len(cmds), Addr: c.addr, DB: c.db, Start: start, Duration: time.Since(start), Err: err, Written: written}
	if len(cmds[0]) > 0 {
		e.Name = cmds[0][0]
	}
	e.Errors = errorReplies(vals)
	if c.hooks.Statement {
		e.Statement = pipelineStatement(len(cmds), func(i int) argList { return stringArgs(cmds[i]) })
	}
	c.firePipeline(ctx, &e)
	return vals, err
}

// doMultiCmdHooked is DoMultiCmd with Hooks.Pipeline set and cmds not
// empty.
func (c *Conn) doMultiCmdHooked(ctx context.Context, cmds []Command) ([]resp.Value, error) {
	start := time.Now()
	var written bool
	vals, err := c.doMultiCmd(ctx, cmds, &written)
	e := PipelineEvent{Len: len(cmds), Name: cmds[0].Name(), Addr: c.addr, DB: c.db, Start: start, Duration: time.Since(start), Err: err, Written: written}
	e.Errors = errorReplies(vals)
	if c.hooks.Statement {
		e.Statement = pipelineStatement(len(cmds), func(i int) argList { return commandArgs(&cmds[i]) })
	}
	c.firePipeline(ctx, &e)
	return vals, err
}

// errorReplies counts the error replies among vals.
func errorReplies(vals []resp.Value) int {
	n := 0
	for _, v := range vals {
		if isError(v) {
			n++
		}
	}
	return n
}

// hookField names a field of Hooks, for the log of its first panic.
type hookField int

const (
	hookCommand hookField = iota
	hookPipeline
	hookDial
	hookState
	hookRedial
	hookCache
	hookFields
)

var hookFieldNames = [...]string{
	hookCommand: "Command", hookPipeline: "Pipeline", hookDial: "Dial",
	hookState: "State", hookRedial: "Redial", hookCache: "Cache",
}

func (f hookField) String() string {
	if f >= 0 && f < hookFields {
		return hookFieldNames[f]
	}
	return fmt.Sprintf("hookField(%d)", int(f))
}

// hookPanics remembers, per *Hooks, which of its fields have panicked
// already, so that each is logged once: *[hookFields]atomic.Bool.
var hookPanics sync.Map

// recoverHook, deferred around a call of h's field f, recovers its panic:
// the event is dropped, and the first panic of each field of h is logged at
// slog.LevelError on logger (when not nil) with its value and stack.
func recoverHook(h *Hooks, logger *slog.Logger, f hookField) {
	p := recover()
	if p == nil || logger == nil {
		return
	}
	seen, _ := hookPanics.LoadOrStore(h, new([hookFields]atomic.Bool))
	if seen.(*[hookFields]atomic.Bool)[f].Swap(true) {
		return
	}
	logger.Error("conn: a hook panicked; its event was dropped, and its later panics are not logged",
		slog.String("hook", f.String()),
		slog.String("panic", fmt.Sprint(p)),
		slog.String("stack", string(debug.Stack())))
}

func (c *Conn) fireCommand(ctx context.Context, e *CommandEvent) {
	defer recoverHook(c.hooks, c.logger, hookCommand)
	c.hooks.Command(ctx, *e)
}

func (c *Conn) firePipeline(ctx context.Context, e *PipelineEvent) {
	defer recoverHook(c.hooks, c.logger, hookPipeline)
	c.hooks.Pipeline(ctx, *e)
}

// fireDial reports a dial and handshake that began at start, when opts has
// a Dial hook.
func fireDial(ctx context.Context, opts *Options, addr string, start time.Time, err error) {
	h := opts.Hooks
	if h == nil || h.Dial == nil {
		return
	}
	defer recoverHook(h, opts.Logger, hookDial)
	h.Dial(ctx, DialEvent{Addr: addr, Start: start, Duration: time.Since(start), Err: err})
}

// fireState reports c's move from one State to the next, with cause.
func (c *Conn) fireState(from, to State, cause error) {
	h := c.hooks
	if h == nil || h.State == nil {
		return
	}
	defer recoverHook(h, c.logger, hookState)
	h.State(StateEvent{Addr: c.addr, From: from, To: to, Cause: cause})
}

// doTracked sends cmds, the tracked read of the command args for DoCache,
// as one batch: reported as a Command event of args, not as a Pipeline.
func (c *Conn) doTracked(ctx context.Context, args []string, cmds [][]string) ([]resp.Value, error) {
	info := inspectBatch(cmds)
	if info.err != nil {
		return nil, info.err
	}
	if h := c.hooks; h == nil || h.Command == nil {
		return c.doMulti(ctx, cmds, info, nil)
	}
	start := time.Now()
	var written bool
	vals, err := c.doMulti(ctx, cmds, info, &written)
	e := CommandEvent{Name: args[0], Addr: c.addr, DB: c.db, Start: start, Duration: time.Since(start), Err: err, Written: written}
	if err == nil && len(vals) > 1 {
		e.Err = vals[1].Err()
	}
	if c.hooks.Statement {
		e.Statement = statement(stringArgs(args))
	}
	c.fireCommand(ctx, &e)
	return vals, err
}
