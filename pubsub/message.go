package pubsub

import (
	"strconv"
	"time"

	"github.com/respwire/respwire/resp"
)

// Kind says which kind of subscription a Message arrived through, or that
// it reports a gap.
type Kind int

// The kinds of message, named after the push frames that carry them, and
// KindGap, which the Subscriber sends itself.
const (
	KindMessage  Kind = iota + 1 // "message": a channel, from SUBSCRIBE
	KindPMessage                 // "pmessage": a channel matched by a pattern, from PSUBSCRIBE
	KindSMessage                 // "smessage": a shard channel, from SSUBSCRIBE
	KindGap                      // "gap": subscriptions that may have missed messages; see Gap
)

var kindNames = [...]string{
	KindMessage:  "message",
	KindPMessage: "pmessage",
	KindSMessage: "smessage",
	KindGap:      "gap",
}

// String returns the push frame's name for k: "message", "pmessage" or
// "smessage", or "gap" for KindGap.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is one message published to a channel the Subscriber listens to,
// or, with Kind KindGap, the report that some subscriptions may have missed
// messages.
type Message struct {
	Kind    Kind
	Pattern string // the pattern that matched Channel; KindPMessage only
	Channel string
	Payload string
	Gap     *Gap // KindGap only; nil otherwise
}

// Gap reports subscriptions that were not live for a while: their
// connection was lost or went silent (a server that cut a slow reader at its
// client-output-buffer-limit included), or a server dropped them on its own
// (a slot moved, a master was demoted or failed over). Messages published to
// them between From and To may be missing; messages published before From
// were delivered, and so is every message published after To. A Gap arrives
// on Messages() once every subscription it names is live again, so an
// application that keeps state from pub/sub can resync it from the source
// when it reads one. Messages received after To may come before it on
// Messages(). A subscription unsubscribed in the meantime is not reported.
type Gap struct {
	Channels      []string // from Subscribe
	Patterns      []string // from PSubscribe
	ShardChannels []string // from SSubscribe
	From, To      time.Time
	Cause         error // what took the subscriptions down, first
}

// space is the namespace a subscription lives in. Each has its own pair of
// commands and its own confirmations on the wire.
type space uint8

const (
	spaceChannel space = iota // SUBSCRIBE
	spacePattern              // PSUBSCRIBE
	spaceShard                // SSUBSCRIBE
)

// spaceCommands are the commands (and the names of their confirmations) of
// each space.
var spaceCommands = [...]struct{ subscribe, unsubscribe string }{
	spaceChannel: {"SUBSCRIBE", "UNSUBSCRIBE"},
	spacePattern: {"PSUBSCRIBE", "PUNSUBSCRIBE"},
	spaceShard:   {"SSUBSCRIBE", "SUNSUBSCRIBE"},
}

// subKey names one subscription: a channel, a pattern or a shard channel.
type subKey struct {
	space space
	name  string
}

// pushKind is what a push frame means to the Subscriber.
type pushKind uint8

const (
	pushOther       pushKind = iota // not pub/sub: ignored
	pushMessage                     // a Message to deliver
	pushSubscribed                  // a subscribe, psubscribe or ssubscribe confirmation
	pushUnsubscribe                 // an unsubscribe confirmation, or the server dropping a subscription
)

// decodedPush is one push frame taken apart.
type decodedPush struct {
	kind    pushKind
	message Message // pushMessage
	sub     subKey  // pushSubscribed, pushUnsubscribe
	null    bool    // pushUnsubscribe with no channel: nothing was subscribed
}

// decodePush takes a push frame apart. Frames that are not pub/sub, or that
// are malformed, come back as pushOther: a stray frame must not stop delivery.
func decodePush(v resp.Value) decodedPush {
	elems := v.Elems()
	if len(elems) < 2 {
		return decodedPush{}
	}
	name, err := elems[0].Text()
	if err != nil {
		return decodedPush{}
	}
	switch name {
	case "message", "smessage":
		if len(elems) != 3 {
			return decodedPush{}
		}
		kind := KindMessage
		if name == "smessage" {
			kind = KindSMessage
		}
		return decodeMessage(kind, "", elems[1], elems[2])
	case "pmessage":
		if len(elems) != 4 {
			return decodedPush{}
		}
		pattern, err := elems[1].Text()
		if err != nil {
			return decodedPush{}
		}
		return decodeMessage(KindPMessage, pattern, elems[2], elems[3])
	case "subscribe":
		return decodeConfirmation(pushSubscribed, spaceChannel, elems[1])
	case "psubscribe":
		return decodeConfirmation(pushSubscribed, spacePattern, elems[1])
	case "ssubscribe":
		return decodeConfirmation(pushSubscribed, spaceShard, elems[1])
	case "unsubscribe":
		return decodeConfirmation(pushUnsubscribe, spaceChannel, elems[1])
	case "punsubscribe":
		return decodeConfirmation(pushUnsubscribe, spacePattern, elems[1])
	case "sunsubscribe":
		return decodeConfirmation(pushUnsubscribe, spaceShard, elems[1])
	}
	return decodedPush{}
}

func decodeMessage(kind Kind, pattern string, channel, payload resp.Value) decodedPush {
	ch, err := channel.Text()
	if err != nil {
		return decodedPush{}
	}
	body, err := payload.Text()
	if err != nil {
		return decodedPush{}
	}
	return decodedPush{kind: pushMessage, message: Message{Kind: kind, Pattern: pattern, Channel: ch, Payload: body}}
}

func decodeConfirmation(kind pushKind, sp space, channel resp.Value) decodedPush {
	if channel.IsNull() {
		return decodedPush{kind: kind, sub: subKey{space: sp}, null: true}
	}
	name, err := channel.Text()
	if err != nil {
		return decodedPush{}
	}
	return decodedPush{kind: kind, sub: subKey{space: sp, name: name}}
}
