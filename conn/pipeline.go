package conn

import (
	"context"
	"errors"
	"strings"

	"github.com/respwire/respwire/resp"
)

var errEmptyCommand = errors.New("conn: empty command")

// Do sends one command and returns its reply. Any number of goroutines may
// call Do at once; their commands share the socket (see Pipelining). An
// error reply is returned as the Value and as a *resp.Error. When ctx ends
// first, Do returns ctx.Err(): a command not yet written is not sent, a
// written one's reply is read and discarded. ctx must not be nil: like the
// standard library's functions that take a context, Do panics on a nil one.
//
// A Conn runs whatever it is given, also commands that change the state of
// the connection (SELECT, MULTI, CLIENT REPLY, ...): a Conn you Dial is
// yours, and such a command then acts on the commands of every goroutine
// that shares it. A Client refuses them on its shared Conn (see
// ErrSharedState) and lends a Conn of its own through Dedicated.
func (c *Conn) Do(ctx context.Context, args ...string) (resp.Value, error) {
	if h := c.hooks; h != nil && h.Command != nil {
		return c.doHooked(ctx, args)
	}
	return c.do(ctx, args, nil)
}

// do is Do. When written is not nil, it is set to whether the command was
// written (see CommandEvent.Written) whenever do returns after queuing it.
func (c *Conn) do(ctx context.Context, args []string, written *bool) (resp.Value, error) {
	if err := checkCommand(args); err != nil {
		return resp.Value{}, err
	}
	if ended(ctx) {
		return resp.Value{}, c.ctxEnded(ctx)
	}
	kind := commandState(args)
	r := c.getRequest(shapeOne)
	r.blocking = isBlocking(args)
	if err := c.lock(ctx, r); err != nil {
		recycle(r)
		return resp.Value{}, err
	}
	if kind != stateNone {
		c.noteState(kind, args)
	}
	c.appendCommand(r, args)
	c.unlock(r)
	if err := c.wait(ctx, r, written); err != nil {
		return resp.Value{}, err
	}
	v := r.val
	recycle(r)
	return v, v.Err()
}

// DoMulti sends several commands written back to back, with no other
// caller's command between them (so MULTI ... EXEC is safe), and returns
// their replies in order. Error replies stay in the values (see Value.Err);
// the error is for the whole call: an empty command, ctx ending, or the Conn
// closing. ctx must not be nil, as for Do.
func (c *Conn) DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	info := inspectBatch(cmds)
	if info.err != nil {
		return nil, info.err
	}
	return c.doMultiInspected(ctx, cmds, info)
}

// doMultiInspected is DoMulti for a batch already inspected (not empty, no
// command refused), for Client: reported to Hooks.Pipeline when it is set.
func (c *Conn) doMultiInspected(ctx context.Context, cmds [][]string, info batchInfo) ([]resp.Value, error) {
	if h := c.hooks; h != nil && h.Pipeline != nil {
		return c.doMultiHooked(ctx, cmds, info)
	}
	return c.doMulti(ctx, cmds, info, nil)
}

// doMulti is doMultiInspected without the hook. When written is not nil,
// it is set as do sets it.
func (c *Conn) doMulti(ctx context.Context, cmds [][]string, info batchInfo, written *bool) ([]resp.Value, error) {
	if ended(ctx) {
		return nil, c.ctxEnded(ctx)
	}
	c.multis.Add(1)
	defer c.multis.Add(-1)
	vals := make([]resp.Value, len(cmds))
	r := c.getRequest(shapeMany)
	r.vals = vals
	r.blocking = info.blocking
	if err := c.lock(ctx, r); err != nil {
		recycle(r)
		return nil, err
	}
	if info.stateful {
		for _, args := range cmds {
			if kind := commandState(args); kind != stateNone {
				c.noteState(kind, args)
			}
		}
	}
	for _, args := range cmds {
		c.appendCommand(r, args)
	}
	c.unlock(r)
	if err := c.wait(ctx, r, written); err != nil {
		return nil, err
	}
	recycle(r)
	return vals, nil
}

// batchInfo is what DoMulti learns of a batch in one pass over it.
type batchInfo struct {
	blocking bool  // a command may hold its reply back (see isBlocking)
	stateful bool  // a command changes the connection's state (see commandState)
	err      error // checkCommand's refusal of the first command it refuses
}

// inspectBatch looks at every command of cmds once. A command whose name
// has three letters (GET, SET, DEL, TTL, ...) costs one comparison: none is
// refused, blocking or stateful (TestThreeLetterCommandsArePlain).
func inspectBatch(cmds [][]string) batchInfo {
	var info batchInfo
	for _, args := range cmds {
		if len(args) > 0 && len(args[0]) == 3 {
			continue
		}
		if err := checkCommand(args); err != nil {
			if info.err == nil {
				info.err = err
			}
			continue
		}
		info.blocking = info.blocking || isBlocking(args)
		info.stateful = info.stateful || commandState(args) != stateNone
	}
	return info
}

// lock takes c.mu for appending r's command bytes to c.wbuf, unless the Conn
// is closing: then it returns why (see SafeToRetry), without the lock. While
// the write buffer is full (see waitRoom) it waits, within ctx: when ctx
// ends first it returns ctx.Err(), without the lock, nothing sent.
func (c *Conn) lock(ctx context.Context, r *request) error {
	c.mu.Lock()
	if c.buffered() >= c.maxPending {
		if err := c.waitRoom(ctx); err != nil {
			c.countTimeout()
			c.mu.Unlock()
			return err
		}
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return &unsentError{err}
	}
	r.start = len(c.wbuf)
	r.patient = !canEnd(ctx)
	return nil
}

// unlock queues r behind the bytes just appended and releases c.mu. When
// the buffer was empty, it starts a write: from this goroutine when nothing
// else is in flight (the serial case, which saves waking the writer) and
// the write is small or r's caller could not leave before its end anyway
// (see maxDirectWrite), else by waking the writer. When the buffer was not
// empty, a write is already due.
func (c *Conn) unlock(r *request) {
	r.end = len(c.wbuf)
	c.pending.add(r)
	if r.start != 0 {
		c.mu.Unlock()
		return
	}
	if !c.writing && c.pending.written() == 0 && (r.end+r.heldBytes <= maxDirectWrite || r.patient) {
		buf, held := c.takeBuffer()
		c.mu.Unlock()
		if more, _ := c.flush(buf, held); more {
			c.wakeWriter()
		}
		return
	}
	c.mu.Unlock()
	c.wakeWriter()
}

// wait blocks until r is answered or ctx ends, and returns r.err. On a nil
// error the caller owns r and recycles it; otherwise r is already disposed of.
// When written is not nil, wait sets it to whether r's command was written.
// A caller reads its reply itself when the reader goroutine has lent the
// socket: one whose ctx cannot end until it has it (see readOwn), another
// for a short while, within its ctx (see readOwnWithin).
func (c *Conn) wait(ctx context.Context, r *request, written *bool) error {
	if !canEnd(ctx) {
		if c.onPush != nil || !c.readOwn(r) {
			c.needReader()
		}
		<-r.done
	} else if !c.readOwnWithin(ctx, r) {
		c.needReader()
		select {
		case <-r.done:
		case <-ctx.Done():
			if ok, wasWritten := c.withdraw(r); ok {
				if written != nil {
					*written = wasWritten
				}
				return ctx.Err()
			}
			<-r.done
		}
	} else {
		<-r.done // answered, or about to be by the teardown
	}
	if written != nil {
		*written = r.err == nil || !SafeToRetry(r.err)
	}
	if err := r.err; err != nil {
		recycle(r)
		return err
	}
	return nil
}

// withdraw takes back a request whose caller is leaving, in constant time.
// A request whose command is not yet taken for writing is marked abandoned
// where it stands, so it is never sent: the next takeBuffer drops its bytes
// and its place in the queue (see pendingReplies.dropWithdrawn). A written one is marked
// abandoned too, and the reader discards its reply. withdraw reports false
// when the answer is already on its way (r's last reply was taken, see
// request.answering: it counts as a reply, not a timeout), and whether r
// was written.
func (c *Conn) withdraw(r *request) (ok, written bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Read before abandoning: after it, a teardown may recycle r. An
	// unwritten r stays in the buffer, where only takeBuffer (under c.mu)
	// disposes of it, unless the teardown already took the queue.
	unwritten := !r.written && c.err == nil
	counted := !r.uncounted
	if r.answering || !r.abandon() {
		return false, false
	}
	if counted {
		c.countTimeout()
	}
	if unwritten {
		c.pending.withdraw(r)
	}
	return true, !unwritten
}

// noteState remembers, with c.mu held, what args (of kind) leaves on the
// connection: an open transaction (txOpen), state beyond a transaction
// (carriesState), and state that an idle PING would disturb (noPing).
func (c *Conn) noteState(kind stateKind, args []string) {
	switch kind {
	case stateMulti:
		c.txOpen = true
	case stateEndMulti:
		c.txOpen = false
	case stateLasting:
		c.carriesState.Store(true)
		if disturbsPing(args) {
			c.noPing = true
		}
	}
}

// ended reports whether ctx has ended. It asks Err, not Done: a context's
// Done channel is made on the first call, and a call that never waits on it
// (one that reads its own reply) need not pay for it.
func ended(ctx context.Context) bool { return ctx.Err() != nil }

// canEnd reports whether ctx can end, without making its Done channel when
// it has a deadline (see ended).
func canEnd(ctx context.Context) bool {
	if _, ok := ctx.Deadline(); ok {
		return true
	}
	return ctx.Done() != nil
}

// checkCommand refuses what Do and DoMulti cannot match to a reply: an empty
// command, and the subscribe family, which is answered by push frames.
func checkCommand(args []string) error {
	if len(args) == 0 {
		return errEmptyCommand
	}
	if isSubscribeCommand(args[0]) {
		return errors.New("conn: " + args[0] + " is answered by push frames: use Send")
	}
	return nil
}

// isSubscribeCommand reports whether name is (P|S)SUBSCRIBE or
// (P|S)UNSUBSCRIBE, in any case.
func isSubscribeCommand(name string) bool {
	const suffix = "subscribe"
	if len(name) < len(suffix) || len(name) > len("punsubscribe") {
		return false
	}
	if !strings.EqualFold(name[len(name)-len(suffix):], suffix) {
		return false
	}
	switch strings.ToLower(name[:len(name)-len(suffix)]) {
	case "", "p", "s", "un", "pun", "sun":
		return true
	}
	return false
}
