package conn

import "github.com/respwire/respwire/resp"

// PubSubMessage is a pub/sub message as Options.OnPubSubMessage receives
// it. Its byte slices borrow the Conn's read buffer: they are valid only
// until OnPubSubMessage returns, and must be copied to be kept.
type PubSubMessage struct {
	Kind    string // "message", "pmessage" or "smessage", as the frame names it
	Pattern []byte // the pattern that matched Channel; "pmessage" only
	Channel []byte
	Payload []byte
}

// pubsubIntake takes pub/sub messages for Options.OnPubSubMessage straight
// from the read buffer (see takeMessages). Only the reader touches it.
type pubsubIntake struct {
	fn      func(PubSubMessage) // nil: every frame takes the usual way
	take    func(resp.Kind, [][]byte) bool
	scratch [4][]byte // a pmessage's four parts
}

// setOnPubSubMessage makes the Conn hand messages to fn (when not nil).
// It runs after onPush is set. A Conn that hears messages must never lend
// its socket, where they would wait for a caller to read (see lendWindow):
// without an OnPush of its own it gets one that drops the other frames, as
// a nil OnPush would.
func (c *Conn) setOnPubSubMessage(fn func(PubSubMessage)) {
	c.pubsub.fn = fn
	c.pubsub.take = c.takeMessage // made once: a method value allocates
	if fn != nil && c.onPush == nil {
		c.onPush = func(resp.Value) {}
	}
}

// takeMessages hands every pub/sub message at the head of the read buffer
// to OnPubSubMessage, until another kind of frame is next. It reads the
// socket when nothing is buffered, as the Read after it would, and returns
// the read's error.
func (c *Conn) takeMessages() error {
	for {
		taken, err := c.rd.ReadStrings(c.pubsub.scratch[:], c.pubsub.take)
		if err != nil || !taken {
			return err
		}
	}
}

// takeMessage hands the frame of kind with the bulk strings elems to
// OnPubSubMessage when it is a pub/sub message, a push in RESP3 or, in
// RESP2, an array while the connection is in subscribe mode (see
// pushInRESP2), and reports whether it did. Everything else, confirmations
// included, is left for the usual way: Send's barrier, the cache's
// invalidations and RESP2's subscription counts look only at those.
func (c *Conn) takeMessage(kind resp.Kind, elems [][]byte) bool {
	switch {
	case kind == resp.Push && c.proto == 3:
	case kind == resp.Array && c.proto == 2 && c.subs.channels+c.subs.shard > 0:
	default:
		return false
	}
	var m PubSubMessage
	switch name := elems[0]; {
	case len(elems) == 3 && string(name) == "message":
		m = PubSubMessage{Kind: "message", Channel: elems[1], Payload: elems[2]}
	case len(elems) == 3 && string(name) == "smessage":
		m = PubSubMessage{Kind: "smessage", Channel: elems[1], Payload: elems[2]}
	case len(elems) == 4 && string(name) == "pmessage":
		m = PubSubMessage{Kind: "pmessage", Pattern: elems[1], Channel: elems[2], Payload: elems[3]}
	default:
		return false
	}
	// Backpressure from the application, as in push.
	c.inPush.Store(true)
	c.pubsub.fn(m)
	c.inPush.Store(false)
	return true
}
