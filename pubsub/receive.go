package pubsub

import "github.com/respwire/respwire/conn"

// onMessage is Options.OnPubSubMessage of every link's connection: it runs
// on the connection's reader goroutine, for the messages taken straight
// from the read buffer (the others come to onPush), and delivers them as
// deliver does.
func (s *Subscriber) onMessage(l *link, pm conn.PubSubMessage) {
	l.frames.Add(1)
	if m, ok := s.message(pm); ok {
		s.handOver(l, m) // message found it wanted
	}
}

// message makes a Message of pm with one allocation at most. Its channel or
// pattern is the name the user subscribed, from the wanted set; only the
// payload is copied. A pmessage's channel, which nobody subscribed by name,
// is copied together with the payload into one string that both share. It
// reports false for a message of a subscription the user does not want,
// which deliver would drop.
func (s *Subscriber) message(pm conn.PubSubMessage) (Message, bool) {
	switch pm.Kind {
	case "message", "smessage":
		kind, sp := KindMessage, spaceChannel
		if pm.Kind == "smessage" {
			kind, sp = KindSMessage, spaceShard
		}
		channel, ok := s.wanted.lookup(sp, pm.Channel)
		if !ok {
			return Message{}, false
		}
		return Message{Kind: kind, Channel: channel, Payload: string(pm.Payload)}, true
	case "pmessage":
		pattern, ok := s.wanted.lookup(spacePattern, pm.Pattern)
		if !ok {
			return Message{}, false
		}
		if channel, ok := s.wanted.lookup(spaceChannel, pm.Channel); ok {
			return Message{Kind: KindPMessage, Pattern: pattern, Channel: channel, Payload: string(pm.Payload)}, true
		}
		both := string(pm.Channel) + string(pm.Payload) // one allocation: the conversions are temporary
		n := len(pm.Channel)
		return Message{Kind: KindPMessage, Pattern: pattern, Channel: both[:n], Payload: both[n:]}, true
	}
	return Message{}, false
}
