package pubsub

import (
	"context"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The hook fields, as callHook names them.
const (
	hookResubscribe = iota
	hookGap
	numHooks
)

var hookNames = [numHooks]string{hookResubscribe: "Resubscribe", hookGap: "Gap"}

// hookPanics records, per hook field, that a panic of it was logged.
type hookPanics [numHooks]atomic.Bool

// callHook runs fn, a call of the hook field, recovering a panic: the
// event is dropped, and the first panic of each field is logged at Error
// on the connections' Logger, with its stack.
func (s *Subscriber) callHook(field int, fn func()) {
	defer func() {
		p := recover()
		if p == nil || s.opts.Logger == nil || !s.panicked[field].CompareAndSwap(false, true) {
			return
		}
		s.opts.Logger.Error("pubsub: a hook panicked; its event was dropped (logged once per hook)",
			"hook", hookNames[field], "panic", p, "stack", string(debug.Stack()))
	}()
	fn()
}

// observed reports whether anything listens: a hook or a logger.
func (s *Subscriber) observed() bool {
	return s.options.Hooks != nil || s.opts.Logger != nil
}

// restoreTally counts, per node, what one round of the repair worker
// subscribed again, and the first error of each node. Its groups run at
// once, so it has a mutex of its own. A nil *restoreTally counts nothing.
type restoreTally struct {
	mu    sync.Mutex
	nodes map[string]*ResubscribeEvent
}

func (t *restoreTally) event(addr string) *ResubscribeEvent {
	e := t.nodes[addr]
	if e == nil {
		e = &ResubscribeEvent{Addr: addr}
		t.nodes[addr] = e
	}
	return e
}

// restored counts n subscriptions of sp restored on addr.
func (t *restoreTally) restored(addr string, sp space, n int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.event(addr)
	switch sp {
	case spaceChannel:
		e.Channels += n
	case spacePattern:
		e.Patterns += n
	case spaceShard:
		e.ShardChannels += n
	}
}

// failed records err as why restoring on addr failed, unless one was.
func (t *restoreTally) failed(addr string, err error) {
	if t == nil || err == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.event(addr); e.Err == nil {
		e.Err = err
	}
}

// report hands each node's event to Hooks.Resubscribe and the log: Info
// for subscriptions restored, Warn for a failure (they are tried again).
func (s *Subscriber) reportRestored(t *restoreTally, took time.Duration) {
	addrs := make([]string, 0, len(t.nodes))
	for addr := range t.nodes {
		addrs = append(addrs, addr)
	}
	slices.Sort(addrs)
	for _, addr := range addrs {
		e := *t.nodes[addr]
		e.Duration = took
		if l := s.opts.Logger; l != nil {
			attrs := []any{"addr", e.Addr, "channels", e.Channels, "patterns", e.Patterns,
				"shard_channels", e.ShardChannels, "duration", e.Duration}
			if e.Err != nil {
				l.Warn("pubsub: restoring subscriptions failed; retrying", append(attrs, "err", e.Err)...)
			} else {
				l.Info("pubsub: subscriptions restored", attrs...)
			}
		}
		if h := s.options.Hooks; h != nil && h.Resubscribe != nil {
			s.callHook(hookResubscribe, func() { h.Resubscribe(e) })
		}
	}
}

// reportGap hands g, about to be queued for Messages(), to Hooks.Gap and
// the log: Warn with how many subscriptions and how long, the names at
// Debug only.
func (s *Subscriber) reportGap(g *Gap) {
	if l := s.opts.Logger; l != nil {
		l.Warn("pubsub: messages may have been missed", "channels", len(g.Channels), "patterns", len(g.Patterns),
			"shard_channels", len(g.ShardChannels), "from", g.From, "to", g.To, "cause", g.Cause)
		if l.Enabled(context.Background(), slog.LevelDebug) {
			l.Debug("pubsub: the gap's subscriptions", "channels", g.Channels, "patterns", g.Patterns,
				"shard_channels", g.ShardChannels)
		}
	}
	if h := s.options.Hooks; h != nil && h.Gap != nil {
		gc := *g
		gc.Channels = slices.Clone(g.Channels)
		gc.Patterns = slices.Clone(g.Patterns)
		gc.ShardChannels = slices.Clone(g.ShardChannels)
		s.callHook(hookGap, func() { h.Gap(gc) })
	}
}

// logLost logs, at Warn, that l's connection was lost with cause, and how
// many subscriptions it held. It runs without Subscriber.mu.
func (s *Subscriber) logLost(addr string, held int, cause error) {
	if l := s.opts.Logger; l != nil {
		l.Warn("pubsub: connection lost; restoring its subscriptions", "addr", addr, "subscriptions", held, "cause", cause)
	}
}
