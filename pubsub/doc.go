// Package pubsub subscribes to channels, patterns and shard channels on one
// server or across a cluster, with one race-free connection per node.
//
// # Subscribing
//
// A Subscriber is made for one server with New, or for a cluster with
// NewCluster. Subscribe, PSubscribe and SSubscribe return once the server
// confirmed every name: a message published after that is delivered.
// Messages arrive on Messages(), in the order each connection received them.
//
//	s, err := pubsub.New(ctx, "127.0.0.1:6379", nil)
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	if err := s.SSubscribe(ctx, "orders:{eu}", "orders:{us}"); err != nil {
//		return err
//	}
//	for m := range s.Messages() {
//		fmt.Println(m.Channel, m.Payload)
//	}
//
// # Connections
//
// Channels and patterns share one connection (in a cluster, any node
// delivers every PUBLISH). Shard channels live on the master that owns their
// slot, so a Subscriber keeps one connection per node that holds shard
// channels: it is opened with the node's first one and closed when the last
// one is unsubscribed. SSubscribe takes channels in any slots: it sends one
// SSUBSCRIBE per slot (the server refuses channels of several slots in one)
// to the node that owns it. Connections speak RESP3, and the server's pushes
// are read on each connection's reader goroutine. With conn.Options.Protocol
// 2, or a server that refuses HELLO, they speak RESP2: each is still a
// conn.Conn, which recognises subscribe mode's plain arrays and hands them
// over as pushes (see conn.Conn.Send). A connection is dialled once, for
// every call that needs it, within the Subscriber's lifetime and
// conn.Options.DialTimeout (10 s when 0); each call waits for it within its
// own context, so a call whose context ends first does not fail the others.
//
// # Concurrency
//
// Every method is safe from many goroutines. Which subscription lives on
// which connection is decided under one mutex, which nothing holds while it
// waits for the network. Unsubscribing a node's last shard channel detaches
// that node's connection, so no subscribe can reach it any more, and closes
// it once a bare SUNSUBSCRIBE is answered (so the node counts none of its
// channels when the call returns); exactly one goroutine does so, and every
// concurrent unsubscribe returns nil. A
// subscribe that comes a moment later opens a fresh connection, and its
// channel is live when it returns. Close may race anything and returns nil.
//
// # Following the cluster
//
// The Subscriber keeps what the user wants subscribed apart from what the
// servers confirmed, and reconciles the two; confirmations are matched by
// name, never by position. When a slot migrates or a master is demoted, the
// server unsubscribes its shard channels by itself: the Subscriber re-reads
// the topology and subscribes them at the new owner. A lost connection is
// dialled again with backoff and every subscription on it restored. This
// runs on one background goroutine, until Close.
//
// # Options
//
// New and NewCluster use the defaults; NewWithOptions and
// NewClusterWithOptions take Options: the size of the Messages() buffer and
// the liveness check's interval and timeout.
//
// # Failed calls
//
// A subscribe that returns nil leaves its names subscribed. One that returns
// an error leaves the names it added unsubscribed (unless a call subscribing
// them at the same time succeeds), even those a server confirmed before the
// error: none of their messages is delivered after the
// call returned, and the Subscriber unsubscribes them on the servers by
// itself, soon after. An unsubscribe that returns an error leaves its names
// unsubscribed all the same, and the Subscriber finishes it on the server.
//
// # Backpressure, and its limit
//
// The client never drops a message by itself (but those of a subscription the
// user has just dropped): while Messages() is full, the connections stop
// reading, and the servers buffer. Messages() holds Options.MessageBuffer
// messages (256 by default). Backpressure can't beat the server's output limit, though: Redis
// buffers at most client-output-buffer-limit for pubsub clients (by default
// 32mb hard, or 8mb for 60 s) and then disconnects the client. Measured on
// loopback with 1 KiB messages and an application that stopped reading: the
// default limit cut the Subscriber after about 35 MiB had been published to
// it (36,000 messages: about 4 MiB of them waited in Messages() and the
// socket buffers, the other 31 MiB were lost); with "1mb 0 0", after about
// 5.4 MiB (5,500 messages, of which 1,400 were lost). The Subscriber then
// reconnects, and reports the loss as a Gap. Subscribe and Unsubscribe wait
// for confirmations that queue behind messages, so a goroutine that reads
// Messages() should not call them while the buffer is full unless its
// context bounds the wait. Close never waits for a reader.
//
// # Gaps
//
// When a subscription was not live for a while (its connection was lost, went
// silent or was cut by the server; a slot moved; a master failed over or was
// demoted), the Subscriber restores it and then puts a Message of KindGap on
// Messages(): its Gap names the channels, patterns and shard channels that
// may have missed messages, and the time range From–To of the publications
// that may be missing. Messages published before From were delivered; every
// message published after To is. The gap is delivered by the Subscriber's
// own goroutine, so messages of the restored subscriptions may come before
// it. An application that keeps state from
// pub/sub resyncs it from the source when it reads a gap.
//
// # Liveness
//
// A subscribed connection owes no reply while idle, so a connection that went
// silent (a NAT or load balancer forgot the flow, a partition) would never be
// noticed by reading alone. conn's own checks (conn.Options.SilenceTimeout,
// IdlePing) are turned off on the Subscriber's connections, because they
// can't tell a silent connection from one whose reader waits for room in
// Messages(). Instead the Subscriber sends every connection a PING each
// Options.PingInterval (1 s). A PING unanswered for Options.PingTimeout (500
// ms), while nothing else was read on that connection and its reader was not
// held up by a full Messages(), makes the Subscriber PING the server on a
// fresh connection: if that is answered while the old PING still is not, the
// old connection is lost. It is closed, redialled with backoff, every
// subscription on it restored, and a Gap reported. A server that is slow for
// everyone (DEBUG SLEEP, a long script) answers neither PING and keeps its
// connections. A PING refused with an error reply (an ACL user denied PING,
// a loading server) is an answer. With the defaults, a silenced connection is
// replaced and messages arrive again within PingInterval + PingTimeout and a
// redial: 1.5-1.6 s after the silence on loopback, for a single server and
// for a cluster node.
//
// # Observability
//
// The conn.Options' Hooks and Logger (for NewCluster and NewSentinel, the
// client's connection options) reach every connection of the Subscriber.
// Options.Hooks adds two events; each field may be nil, and a nil *Hooks
// costs nothing:
//   - Resubscribe: subscriptions restored after their connection was lost
//     (or the server dropped them), one event per node and repair round,
//     with how many channels, patterns and shard channels, how long the
//     round took, and its error when it failed (it is retried).
//   - Gap: each Gap, as it is queued for Messages(), as the hook's own copy.
//
// They run on the Subscriber's repair goroutine, off every lock, and must
// be quick; a panic in one is recovered, its event dropped (Messages()
// still gets the Gap) and the first panic of each hook logged at Error.
//
// On the conn.Options' Logger the Subscriber logs a lost connection at Warn
// (how many subscriptions it held, why), their restoring at Info (or its
// failure at Warn), and a gap at Warn with its counts and time range.
// Channel and pattern names are logged at Debug only (a record of their
// own after the gap's); no record holds a message's payload or a password.
package pubsub
