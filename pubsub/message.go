package pubsub

import (
	"strconv"

	"github.com/respwire/respwire/resp"
)

// Kind says which kind of subscription a Message arrived through.
type Kind int

// The kinds of message, named after the push frames that carry them.
const (
	KindMessage  Kind = iota + 1 // "message": a channel, from SUBSCRIBE
	KindPMessage                 // "pmessage": a channel matched by a pattern, from PSUBSCRIBE
	KindSMessage                 // "smessage": a shard channel, from SSUBSCRIBE
)

var kindNames = [...]string{
	KindMessage:  "message",
	KindPMessage: "pmessage",
	KindSMessage: "smessage",
}

// String returns the push frame's name for k: "message", "pmessage" or "smessage".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is one message published to a channel the Subscriber listens to.
type Message struct {
	Kind    Kind
	Pattern string // the pattern that matched Channel; KindPMessage only
	Channel string
	Payload string
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
