package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/backoff"
	"github.com/respwire/respwire/resp"
)

const (
	// maxRetries bounds the retries of one command after TRYAGAIN,
	// CLUSTERDOWN, LOADING or a node that couldn't be reached, for callers
	// whose context never ends. With the backoff below it is about 2.5 to
	// 5 s.
	maxRetries = 32
	// The backoff between retries doubles from minBackoff up to maxBackoff,
	// jittered (see retryBackoff).
	minBackoff = time.Millisecond
	maxBackoff = 200 * time.Millisecond
)

// retryBackoff spaces the retries of one command, at random between half
// and all of the doubling ceiling, so that many callers do not retry in
// step.
var retryBackoff = backoff.Policy{Min: minBackoff, Max: maxBackoff}

// Do sends one command to the node that serves its keys and returns the
// reply, following MOVED and ASK redirects. A server error reply is returned
// as a *resp.Error. A command whose keys hash to different slots is refused
// with an error wrapping ErrCrossSlot, unsent; a command without keys goes to
// any master. With ReadReplicas, read-only commands go to a replica.
//
// A call that fails for want of a node (its context ended while the node
// was unreachable or silent, or the node's connection broke) returns an
// error that names the node, says what the client knew of it and wraps the
// node's last connection failure (a dial error, say) as well as the call's
// own: errors.Is(err, context.DeadlineExceeded) still holds.
func (c *Client) Do(ctx context.Context, args ...string) (resp.Value, error) {
	info, err := c.command(ctx, args)
	if err != nil {
		return resp.Value{}, err
	}
	info = info.resolve(args)
	slot, cross := info.keySlot(args)
	if info.request != requestDefault && info.fansOut(args, slot, cross) {
		return c.doFannedOut(ctx, info, args)
	}
	if cross {
		return resp.Value{}, crossSlot(args[0])
	}
	toReplica := c.opts.ReadReplicas && info.readonly() && !info.blocking()
	if n := c.table.Load().pick(slot, toReplica); n != nil {
		if cl := n.client.Load(); cl != nil && n.acquire() {
			if err := c.checkConnected(n, cl); err != nil {
				n.release()
				return resp.Value{}, err
			}
			v, err := cl.Do(ctx, args...)
			n.release()
			if err == nil {
				return v, nil
			}
			return c.follow(ctx, &attempt{slot: slot, toReplica: toReplica, target: n}, args, v, err)
		}
	}
	a := &attempt{slot: slot, toReplica: toReplica}
	v, err := c.send(ctx, a, args)
	return c.follow(ctx, a, args, v, err)
}

// command returns the routing metadata of args' command, asking the server
// (COMMAND INFO) about a name the command table doesn't hold.
func (c *Client) command(ctx context.Context, args []string) (*commandInfo, error) {
	if len(args) == 0 {
		return nil, errNoCommand
	}
	if c.closed.Load() {
		return nil, errClosed
	}
	if info, ok := c.commands.lookup(args[0]); ok {
		return info, nil
	}
	return c.learnCommand(ctx, args[0]), nil
}

// learnCommand asks a master about a command COMMAND didn't list (a module
// loaded later, or a typo) and remembers the answer. A name the server doesn't
// know either is routed as keyless: the server will answer "unknown command".
func (c *Client) learnCommand(ctx context.Context, name string) *commandInfo {
	unknown := &commandInfo{name: strings.ToLower(name)}
	n := c.table.Load().pick(noSlot, false)
	if n == nil {
		return unknown
	}
	cl, err := n.get(ctx)
	if err != nil {
		return unknown
	}
	v, err := cl.Do(ctx, "COMMAND", "INFO", name)
	if err != nil {
		return unknown // not remembered: the next call asks again
	}
	commands, err := parseCommands(v)
	if err != nil {
		return unknown
	}
	info := commands[unknown.name]
	c.commands.learn(name, info)
	if info == nil {
		return unknown
	}
	return info
}

// attempt is the state of one command as it follows redirects. It doesn't
// hold the command's arguments: what an attempt points to may end up in the
// routing table, and Do's arguments must stay on the caller's stack.
type attempt struct {
	slot      int
	toReplica bool
	target    *node // where the next try goes; nil: ask the table
	asking    bool  // send ASKING first (an ASK redirect)
	redirects int
	retries   int
	cause     error // why the latest retry was needed, naming the node when one was tried
}

// connFor returns the connection to a's target, which it first takes from
// the table when a has none, as enter does: the caller releases the target
// when the call returns.
func (c *Client) connFor(ctx context.Context, a *attempt) (*conn.Client, error) {
	if a.target == nil {
		if a.target = c.table.Load().pick(a.slot, a.toReplica); a.target == nil {
			return nil, errNoNode
		}
	}
	return c.enter(ctx, a.target)
}

// enter counts a call in flight on n and returns n's connection, dialling
// it if needed (see clientOf). The caller must call n.release when the call
// returns, unless enter failed. A retired node is refused, unsent.
func (c *Client) enter(ctx context.Context, n *node) (*conn.Client, error) {
	if !n.acquire() {
		return nil, &nodeError{addr: n.addr, err: errRetired}
	}
	cl, err := c.clientOf(ctx, n)
	if err != nil {
		n.release()
		return nil, err
	}
	return cl, nil
}

// send makes one try of a, the command args.
func (c *Client) send(ctx context.Context, a *attempt, args []string) (resp.Value, error) {
	cl, err := c.connFor(ctx, a)
	if err != nil {
		return resp.Value{}, err
	}
	defer a.target.release()
	if !a.asking {
		return cl.Do(ctx, args...)
	}
	replies, err := cl.DoMulti(ctx, []string{"ASKING"}, args)
	if err != nil {
		return resp.Value{}, err
	}
	if len(replies) != 2 {
		return resp.Value{}, fmt.Errorf("cluster: %d replies to ASKING and a command", len(replies))
	}
	return replies[1], replies[1].Err()
}

// follow handles what a try of a, the command args, returned until a reply
// (or an error that ends the command) comes back.
func (c *Client) follow(ctx context.Context, a *attempt, args []string, v resp.Value, err error) (resp.Value, error) {
	for err != nil {
		wait, stop := c.next(ctx, a, args[0], err)
		if stop != nil {
			return v, stop
		}
		if wait {
			if stop := c.backoff(ctx, a.retries); stop != nil {
				return v, withCause(stop, a.cause)
			}
		}
		v, err = c.send(ctx, a, args)
	}
	return v, nil
}

// next decides where a, the command name, goes after failing with err: it
// sets a.target and a.asking for another try, which should come after a
// backoff when wait is true, or returns the error that ends the command. A
// redirect it follows is reported (see Hooks.Redirect) with ctx.
func (c *Client) next(ctx context.Context, a *attempt, name string, err error) (wait bool, stop error) {
	if c.closed.Load() {
		return false, errClosed
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// A node that doesn't answer in time may be dead: a call to a
		// node whose connection is being redialled just waits.
		c.suspect(a.target, err)
		return false, withCause(failedOn(a.target, err), a.cause)
	}
	if errors.Is(err, context.Canceled) {
		return false, withCause(failedOn(a.target, err), a.cause)
	}
	var fe *failedNodeError
	if errors.As(err, &fe) {
		return false, err // nothing to wait for until the topology changes
	}
	var re *resp.Error
	if errors.As(err, &re) {
		return c.nextAfterReply(ctx, a, name, re)
	}
	if !unsent(err) {
		if brokenNode(err) {
			c.suspect(a.target, err)
			if a.target != nil {
				a.target.noteFailure(err)
			}
		}
		return false, failedOn(a.target, err)
	}
	// The command never left: it is safe to send it again.
	c.suspect(a.target, err)
	return c.retry(a, namedCause(a.target, err))
}

// retry counts one more retry of a, to be routed afresh by the table.
func (c *Client) retry(a *attempt, cause error) (wait bool, stop error) {
	if a.retries++; a.retries > maxRetries {
		return false, fmt.Errorf("cluster: gave up after %d retries: %w", maxRetries, cause)
	}
	a.cause = cause
	a.target, a.asking = nil, false
	return true, nil
}

// nextAfterReply follows the cluster's error replies: MOVED, ASK, and the
// transient TRYAGAIN, CLUSTERDOWN and LOADING.
func (c *Client) nextAfterReply(ctx context.Context, a *attempt, name string, re *resp.Error) (wait bool, stop error) {
	switch re.Code {
	case "MOVED", "ASK":
		slot, addr, ok := parseRedirect(re.Message, a.target)
		if !ok {
			return false, re
		}
		if a.redirects++; a.redirects > c.maxRedirects {
			return false, fmt.Errorf("cluster: more than %d redirects: %w", c.maxRedirects, re)
		}
		from := a.target
		if re.Code == "ASK" {
			a.target, a.asking = c.nodes.get(addr), true
			c.redirected(ctx, name, true, slot, from, addr)
			return false, nil
		}
		c.moved(slot, addr)
		a.target, a.asking = c.nodes.get(addr), false
		c.redirected(ctx, name, false, slot, from, addr)
		return false, nil
	case "LOADING":
		if a.toReplica {
			a.toReplica, a.target, a.asking = false, nil, false // read from the master instead
			return false, nil
		}
		return c.retry(a, re)
	case "TRYAGAIN", "CLUSTERDOWN":
		if re.Code == "CLUSTERDOWN" {
			c.triggerRefresh(RefreshRedirect)
		}
		return c.retry(a, re)
	}
	return false, re
}

// backoff waits before retry number retries. It returns ctx.Err() when ctx
// ends first, and errClosed when the Client closes.
func (c *Client) backoff(ctx context.Context, retries int) error {
	t := time.NewTimer(retryBackoff.Delay(retries))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.lifetime.Done():
		return errClosed
	}
}

// parseRedirect reads "MOVED 3999 127.0.0.1:6381" (or ASK). An address with
// no host (":6381", a node without a known IP) means the host of the node
// that answered.
func parseRedirect(msg string, from *node) (slot int, addr string, ok bool) {
	_, rest, _ := strings.Cut(msg, " ")
	slotText, addr, found := strings.Cut(rest, " ")
	if !found || addr == "" {
		return 0, "", false
	}
	n := 0
	for i := 0; i < len(slotText); i++ {
		d := slotText[i]
		if d < '0' || d > '9' || n > 16383 {
			return 0, "", false
		}
		n = n*10 + int(d-'0')
	}
	if slotText == "" || n > 16383 {
		return 0, "", false
	}
	if strings.HasPrefix(addr, ":") && from != nil {
		if host, _, err := net.SplitHostPort(from.addr); err == nil {
			addr = net.JoinHostPort(host, addr[1:])
		}
	}
	return n, addr, true
}
