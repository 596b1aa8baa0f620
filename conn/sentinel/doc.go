// Package sentinel is a client for a Redis master managed by Redis Sentinel:
// it finds the master from the sentinels, and follows it when they fail it
// over.
//
// A Client is a conn.Client (one auto-pipelined connection, redialled, with
// dedicated connections for blocking commands and Dedicated) whose every
// dial goes to the master the sentinels name at that moment. It is made by
// conn.NewClientFunc, so its calls cost what a conn.Client's do.
//
// # Discovery
//
// New asks every sentinel of Options.Addrs at once with SENTINEL
// GET-MASTER-ADDR-BY-NAME; the first answer wins, so a sentinel that is down
// or slow costs nothing while another answers. The server named is dialled
// and asked for its ROLE: one that says it is a replica is refused, and the
// sentinels are asked again. The Client keeps a connection to each sentinel
// it knows, learns the others from SENTINEL SENTINELS (up to 16), and
// authenticates to them with Options.Sentinel (a sentinel's own
// requirepass or ACL user, and TLS), independently of the master's
// Options.Conn.
//
// # Following a failover
//
// Each sentinel connection is subscribed to +switch-master. When any
// sentinel announces that the master moved, the Client closes every
// connection it has to the old master, before it handles anything else:
// calls not yet written on them go to the new master, calls that were
// written fail with an error wrapping conn.ErrClosed, as when a server goes
// away (never sent twice, since only the caller knows whether a command is
// safe to repeat), and nothing is written to the old master from then on,
// although after SENTINEL FAILOVER it goes on accepting writes until a
// sentinel reconfigures it, seconds later. Against a real deployment under
// 32 writing goroutines, writes succeed again within milliseconds of the
// announcement.
//
// The sentinels are asked again, in the background or at the next dial,
// when the master can't be reached, when a reply is READONLY (the server was
// demoted under the Client) and when ROLE says replica. While no sentinel
// answers, a redial goes back to the last master known, checked with ROLE,
// so losing every sentinel does not interrupt a Client whose master is
// fine. A switch announced while the Client had no sentinel connection is
// noticed at the next of those signs.
//
// # Replicas
//
// With Options.ReadReplicas, commands the server's COMMAND flags readonly
// and not blocking go to a random replica among those SENTINEL REPLICAS
// lists without s_down, o_down or disconnected flags and with their link to
// the master up; the list is read again after a switch, on the sentinels'
// events about replicas, and when a replica is lost. A replica that is
// loading, or that could not write a call, hands it to the master.
//
// # Logging
//
// The Client logs on Options.Conn.Logger (or, when that is nil, on
// Options.Sentinel.Logger): a master switch it follows, whether announced
// or found by asking, at Warn with both addresses; a sentinel it can't
// reach at Warn, once until it is reached again (Info); no sentinel
// answering a question at Warn; the first master found at Debug. The
// connections' own records (dials, redials, lost connections) come from
// conn, on the same loggers. No record holds a password.
//
// # Pub/sub
//
// pubsub.NewSentinel builds a Subscriber on a Client: its connection is
// dialled through Client.DialMaster, closed at a switch like the others,
// and the Subscriber subscribes again on the new master.
package sentinel
