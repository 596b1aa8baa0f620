package conn

import (
	"strings"

	"github.com/respwire/respwire/resp"
)

// pushFrame hands a push frame read after the handshake to OnPush, unless
// it is Send's barrier (see sendPushed).
func (c *Conn) pushFrame(v resp.Value) {
	if kind, ok := confirmationKind(v); ok && c.sendPushed(kind, v) {
		return
	}
	c.push(v)
}

// confirmationKind returns the kind of a subscribe-family confirmation
// ("subscribe", "sunsubscribe", ...: 3 elements ending in a count), cheaply
// telling it from a message, whose third element is its payload.
func confirmationKind(v resp.Value) (string, bool) {
	elems := v.Elems()
	if len(elems) != 3 || elems[2].Kind() != resp.Integer {
		return "", false
	}
	kind, _ := elems[0].Text()
	switch kind {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe":
		return kind, true
	}
	return "", false
}

// push hands a push frame to OnPush, after applying it to the client-side
// cache when it is an invalidation.
func (c *Conn) push(v resp.Value) {
	c.invalidated(v)
	if c.onPush != nil {
		// While OnPush holds the reader, nothing is read: the
		// application's backpressure, which liveness must not take for
		// a silent connection.
		c.inPush.Store(true)
		c.onPush(v)
		c.inPush.Store(false)
	}
}

// subscriptions is what a RESP2 connection knows of its subscribe mode, from
// the counts in the server's confirmations. Only the reader touches it.
type subscriptions struct {
	channels int // channels and patterns, as (P)(UN)SUBSCRIBE confirmations count them
	shard    int // shard channels, as S(UN)SUBSCRIBE confirmations count them
}

// pushInRESP2 recognises what RESP3 would have sent as a push frame on a
// RESP2 connection, where subscribe confirmations and messages are plain
// arrays, and hands it to OnPush as a push. An array counts as one only
// while the connection is in subscribe mode (where RESP2 allows no command
// whose reply could look the same) or while a Send waits at the head of the
// queue (its command is a subscribe command). It reports whether v was taken.
func (c *Conn) pushInRESP2(v resp.Value) bool {
	if v.Kind() == resp.SimpleString {
		if s, _ := v.Text(); s == "RESET" {
			c.subs = subscriptions{} // RESET left subscribe mode
		}
		return false
	}
	kind, ok := pubsubKind(v)
	if !ok {
		return false
	}
	// Send's barrier is never a reply, in subscribe mode or not: a late
	// one (see Send) must not be taken for the next command's.
	barrier := kind == "unsubscribe" && isBarrierChannel(v)
	if !barrier && c.subs.channels+c.subs.shard == 0 && !c.sendWaiting() {
		return false
	}
	elems := v.Elems()
	// Only confirmations end in an integer count; checking the kind first
	// keeps a message's payload from being parsed (and an error allocated).
	if last := elems[len(elems)-1]; last.Kind() == resp.Integer {
		count, _ := last.Int()
		switch kind {
		case "subscribe", "psubscribe", "unsubscribe", "punsubscribe":
			c.subs.channels = int(count)
		case "ssubscribe", "sunsubscribe":
			c.subs.shard = int(count)
		}
	}
	c.pushFrame(resp.NewPush(elems...))
	return true
}

// sendWaiting reports whether the oldest written request is a Send's.
func (c *Conn) sendWaiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.pending.oldest()
	return r != nil && r.shape == shapeBarrier
}

// pubsubKind returns the kind of a RESP2 pub/sub array: a confirmation
// ("subscribe", 3 elements ending in a count) or a message ("message" and
// "smessage" with 3 elements, "pmessage" with 4).
func pubsubKind(v resp.Value) (string, bool) {
	elems := v.Elems()
	if v.Kind() != resp.Array || len(elems) < 3 || len(elems) > 4 || elems[0].Kind() != resp.BulkString {
		return "", false
	}
	kind, _ := elems[0].Text()
	kind = strings.ToLower(kind)
	switch kind {
	case "pmessage":
		return kind, len(elems) == 4
	case "message", "smessage":
		return kind, len(elems) == 3
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe":
		return kind, len(elems) == 3 && elems[2].Kind() == resp.Integer
	}
	return "", false
}
