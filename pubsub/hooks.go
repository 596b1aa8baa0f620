package pubsub

import "time"

// Hooks are the functions a Subscriber calls about its subscriptions,
// besides the conn.Hooks its connections call (set those in the
// conn.Options). Each field may be nil; a nil *Hooks costs nothing. They run
// synchronously and must be quick; a panic in one is recovered and the
// event dropped, as for conn.Hooks.
type Hooks struct {
	// Resubscribe reports subscriptions restored on a new connection
	// after theirs was lost.
	Resubscribe func(e ResubscribeEvent)
	// Gap reports a Gap, when it is queued for Messages().
	Gap func(g Gap)
}

// ResubscribeEvent describes one restoring of subscriptions on a node.
type ResubscribeEvent struct {
	Addr                              string
	Channels, Patterns, ShardChannels int // how many of each were restored
	Duration                          time.Duration
	// Err is why they could not be restored (they will be tried again);
	// nil when they were.
	Err error
}
