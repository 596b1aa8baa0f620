package cluster

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
)

// The hook fields, as observer.call names them.
const (
	hookRedirect = iota
	hookRefresh
	hookNode
	numHooks
)

var hookNames = [numHooks]string{hookRedirect: "Redirect", hookRefresh: "Refresh", hookNode: "Node"}

// observer is what a Client reports to (Options.Hooks, Options.Conn.Logger)
// and the counters behind the figures of Stats that are the cluster's own.
// Everything it counts is rare (a redirect, a refresh), so plain atomics do.
type observer struct {
	hooks  *Hooks       // nil: no hook
	logger *slog.Logger // nil: no log

	panicked [numHooks]atomic.Bool // a hook field's panic was logged

	moved, ask             atomic.Uint64
	refreshes, refreshErrs atomic.Uint64
}

// call runs fn, a call of the hook field, recovering a panic: the event
// is dropped, and the first panic of each field is logged at Error with its
// stack.
func (o *observer) call(field int, fn func()) {
	defer func() {
		p := recover()
		if p == nil || o.logger == nil || !o.panicked[field].CompareAndSwap(false, true) {
			return
		}
		o.logger.Error("cluster: a hook panicked; its event was dropped (logged once per hook)",
			"hook", hookNames[field], "panic", p, "stack", string(debug.Stack()))
	}()
	fn()
}

// redirected counts a MOVED (or, with ask, an ASK) that the call of the
// command name followed from the node from to the address to, and reports
// it on the caller's goroutine. name is cloned only when a hook gets it, so
// the caller's arguments don't escape.
func (c *Client) redirected(ctx context.Context, name string, ask bool, slot int, from *node, to string) {
	o := &c.obs
	if ask {
		o.ask.Add(1)
	} else {
		o.moved.Add(1)
	}
	h := o.hooks
	if (h == nil || h.Redirect == nil) && o.logger == nil {
		return
	}
	e := RedirectEvent{Ask: ask, Name: strings.Clone(name), Slot: uint16(slot), To: to}
	if from != nil {
		e.From = from.addr
	}
	if o.logger != nil && o.logger.Enabled(ctx, slog.LevelDebug) {
		kind := "MOVED"
		if ask {
			kind = "ASK"
		}
		o.logger.DebugContext(ctx, "cluster: redirect followed", "kind", kind, "command", e.Name,
			"slot", e.Slot, "from", e.From, "to", e.To)
	}
	if h != nil && h.Redirect != nil {
		o.call(hookRedirect, func() { h.Redirect(ctx, e) })
	}
}

// refreshed counts and reports one refresh that finished: its reason, how
// long it took, its error, and d, what it changed (zero when it failed).
func (c *Client) refreshed(reason RefreshReason, took time.Duration, err error, d tableDiff) {
	o := &c.obs
	o.refreshes.Add(1)
	if err != nil {
		o.refreshErrs.Add(1)
	}
	if o.logger != nil {
		c.logRefresh(reason, err, d)
	}
	if h := o.hooks; h != nil && h.Refresh != nil {
		e := RefreshEvent{Reason: reason, Duration: took, Err: err,
			Changed: d.changed, MovedSlots: d.movedSlots, Added: d.added, Removed: d.removed}
		o.call(hookRefresh, func() { h.Refresh(e) })
	}
}

// logRefresh logs a failed refresh and a changed topology at Warn, a
// failover at Warn, other changes at Info.
func (c *Client) logRefresh(reason RefreshReason, err error, d tableDiff) {
	l := c.obs.logger
	if err != nil {
		l.Warn("cluster: topology refresh failed", "reason", reason.String(), "err", err)
		return
	}
	for _, f := range d.failovers {
		l.Warn("cluster: master changed (failover)", "old_master", f.from, "new_master", f.to, "slots", f.slots)
	}
	if d.changed {
		l.Info("cluster: topology changed", "reason", reason.String(), "moved_slots", d.movedSlots,
			"added", d.added, "removed", d.removed)
	}
}

// nodeSuspected reports that n became suspect, because of cause.
func (c *Client) nodeSuspected(n *node, cause error) {
	o := &c.obs
	if o.logger != nil {
		o.logger.Warn("cluster: node suspect", "addr", n.addr, "cause", cause)
	}
	if h := o.hooks; h != nil && h.Node != nil {
		e := NodeEvent{Addr: n.addr, Suspect: true, Cause: cause}
		o.call(hookNode, func() { h.Node(e) })
	}
}

// nodeRecovered reports that the suspect n answered again, or that the
// routing dropped it (routed false).
func (c *Client) nodeRecovered(n *node, routed bool) {
	o := &c.obs
	if o.logger != nil {
		o.logger.Info("cluster: node recovered", "addr", n.addr, "answered", routed)
	}
	if h := o.hooks; h != nil && h.Node != nil {
		e := NodeEvent{Addr: n.addr}
		o.call(hookNode, func() { h.Node(e) })
	}
}
