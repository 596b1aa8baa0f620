package pubsub

import "time"

// Hooks are the functions a Subscriber calls about its subscriptions,
// besides the conn.Hooks its connections call (set those in the
// conn.Options). Each field may be nil; a nil *Hooks costs nothing. They run
// synchronously and must be quick; a panic in one is recovered and the
// event dropped, as for conn.Hooks.
type Hooks struct {
	// Resubscribe reports subscriptions restored on a new connection
	// after theirs was lost (or the server dropped them), and attempts
	// that failed.
	Resubscribe func(e ResubscribeEvent)
	// Gap reports a Gap, when it is queued for Messages() (those queued
	// at once are merged into one, as Messages() gets them). The Gap is
	// the hook's own copy.
	Gap func(g Gap)
}

// ResubscribeEvent describes one restoring of subscriptions on a node: one
// per node for each round of the Subscriber's repair that had
// subscriptions to restore, on the repair goroutine.
type ResubscribeEvent struct {
	// Addr is the node's address; empty when the failure came before a
	// node was chosen (a cluster's topology could not be read).
	Addr                              string
	Channels, Patterns, ShardChannels int // how many of each were restored
	Duration                          time.Duration
	// Err is why they could not be restored (they will be tried again);
	// nil when they were.
	Err error
}
