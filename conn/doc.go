// Package conn is one auto-pipelined connection to a Redis server, with an
// atomic open → closing → closed lifecycle, and a Client that redials it.
//
// A Conn is safe for any number of goroutines. It is the layer that cluster
// and pubsub build on; most programs use Client (one server, redialled on
// failure) or the cluster package rather than a bare Conn.
//
// # Handshake
//
// Dial (or NewConn, on a net.Conn you made) opens the connection with one
// round trip: HELLO 3, with AUTH and SETNAME when Options ask for them, and
// SELECT pipelined behind it when Options.DB is not 0. With only a Password
// the user is "default". A server that refuses HELLO (older than Redis 6, or
// NOPROTO) is spoken to in RESP2 instead: AUTH, CLIENT SETNAME and SELECT.
// Options.Protocol = 2 asks for RESP2 from the start. A refused password is a
// *resp.Error (WRONGPASS); the password never appears in an error.
// Options.Credentials, when set, is asked for the username and password
// before every handshake, so rotated passwords and short-lived tokens are
// picked up by the next dial.
//
// # Unreachable servers and bad replies
//
// While a Client's server can't be reached (refused, black-holed, or
// refusing its credentials), its calls fail within about DialTimeout with an
// error that wraps the last dial's and satisfies SafeToRetry, whatever their
// context; redials back off meanwhile, longer after a refused handshake. A
// reply over Options.MaxReplyElements or MaxBulkLen, or one the codec
// refuses although its framing is whole, fails only its own call (see
// resp.SkippedError); the Conn stays in step and everyone else's replies
// arrive as usual.
//
// # Pipelining
//
// Do, DoMulti and Send append the encoded command to a shared write buffer
// and take a place in a FIFO of pending requests, in one short critical
// section, so wire order and FIFO order agree. The first caller to make the
// buffer non-empty wakes the Conn's writer goroutine, which takes the whole
// buffer and writes it with one system call; callers that arrive meanwhile
// ride along in the same write. The Conn's reader goroutine decodes replies
// and hands each to the request at the head of the FIFO. So under load many
// commands share each write and each read, and a call costs no allocation of
// its own: a GET allocates only the value's string, a SET nothing. On a TCP
// or Unix socket, an argument of 1 KiB or more of a call whose context can
// never end is not copied into the buffer: the write takes it from the
// caller's string, in one writev with the buffer's bytes around it, so a
// big value is copied once, by the kernel. A call whose context can end
// may return while its write is in progress, so its arguments are copied,
// as is every byte over TLS or a net.Conn given to NewConn that is neither
// a TCP nor a Unix socket.
//
// A serial caller would pay for handing its reply from the reader goroutine
// to its own. So on a Conn without OnPush, once nothing is in flight the
// reader goroutine lends the socket: a call that finds it lent writes its
// command and reads its reply itself, one goroutine switch fewer. A call
// whose context can never end (ctx.Done() is nil, as for
// context.Background) reads until its reply comes. One whose context can end
// reads on a TCP or Unix socket for up to a millisecond and never past its
// deadline, with a read deadline on the socket, decoding a reply only once
// it is whole in the buffer, so that leaving loses nothing; then it leaves
// the reply to the reader goroutine and waits, as it always does on TLS. A
// cancellation during that millisecond is noticed at its end. Exactly one
// goroutine reads the socket at a time; the reader goroutine takes it back
// when other calls are waiting, or after a millisecond in which no call read
// for itself.
//
// DoMulti writes its commands back to back with no other caller's command in
// between, so MULTI ... EXEC in one DoMulti is a transaction. It returns one
// value per command; error replies stay in the values (see resp.Value.Err).
//
// DoStream reads a bulk-string reply (a large GET, say) straight to an
// io.Writer as it comes off the socket, and DoBuffer into the caller's
// slice, so the value is never held in memory of the Conn's; the replies of
// other callers around it are pipelined as usual. A Reader's buffer never
// grows with the replies it reads: a big value read whole is memory of its
// own, owned by its Value.
//
// # One interface, typed arguments, scripts
//
// Application code is written once against Universal, which Client and
// cluster.Client both satisfy (Doer is its command-sending half, which a
// Conn satisfies too). Its methods take a Command, a value that holds its
// arguments, so a call through the interface allocates no more than one on
// the concrete type: a GET its value, a SET nothing. A Command takes []byte
// arguments without a copy and numbers without a string (Cmd("SET",
// key).Bytes(b).Arg("EX").Int(60)). A Script runs by EVALSHA and sends its
// source only where the server answers NOSCRIPT. DoCacheCmd reads through
// the client-side cache; a hit allocates nothing.
//
// # Contexts
//
// Every call takes a context and returns ctx.Err() promptly when it ends. A
// command still in the write buffer is cut out of it and never sent. A
// command already written keeps its place: its late reply is read and
// discarded, so the connection stays in step and usable. A context bounds a
// call, never the Conn; for Dial it bounds dialling and the handshake.
//
// # Push frames
//
// RESP3 push frames ('>') answer no command: pub/sub messages and
// confirmations, client-tracking invalidations. The reader hands each to
// Options.OnPush, on the reader goroutine, and never takes one for a reply,
// so a push arriving between replies does not shift matching. Subscribe
// commands are answered by push frames only, so Do refuses them: use Send,
// which writes the command with a barrier behind it (an UNSUBSCRIBE of a
// channel of its own, which every server state that takes a subscribe
// command answers) and returns once the barrier is answered, that is, after
// every push frame the command caused has been handed to OnPush. On a RESP2 connection, where subscribe confirmations and
// messages are plain arrays, the Conn hands them to OnPush as push frames
// while it is in subscribe mode; see Send.
// Options.OnPubSubMessage, when set, takes the pub/sub messages in
// OnPush's place, in stream order, straight from the read buffer: its
// PubSubMessage borrows the buffer, so a receiver that copies only the
// payload allocates once per message (package pubsub does).
//
// # Connection state
//
// Some commands change the connection they run on for the commands after
// them: MULTI, WATCH, SELECT, CLIENT REPLY, CLIENT TRACKING, MONITOR,
// RESET, HELLO, AUTH, READONLY, ... (see ErrSharedState for the rule). A
// Conn you dial runs them, since it is yours; a Client's Do and DoMulti
// refuse them unsent on the shared Conn, which carries every caller's
// commands, apart from a transaction written whole by one DoMulti (WATCH,
// MULTI ... EXEC or DISCARD). Run the others in Dedicated: its Conn is
// closed afterwards rather than handed to the next caller, unless only a
// transaction ran on it.
//
// # Liveness
//
// A connection can stay open and silent: a NAT or a load balancer forgot the
// flow, the server was replaced behind the same address, a firewall drops
// the packets. A Conn made by Dial finds this out by itself, whatever its
// callers' contexts (context.Background included), with two checks on a
// timer of its own (Options.SilenceTimeout and Options.IdlePing):
//
//   - Silence. A Conn that owes replies (to anything but a blocking command
//     such as BLPOP, which waits by design) and has read nothing for
//     SilenceTimeout (200 ms) dials its server afresh and sends a PING
//     there. Writes don't count, since a silent link still takes small ones
//     into the kernel's buffers; only the progress of a big write does. Time
//     the reader spends in OnPush doesn't count either: a slow OnPush holds
//     the reads back on purpose (backpressure). A single-threaded server that answers that PING while this
//     connection, whose commands came first, still gets nothing has lost
//     this connection: the Conn closes, and its pending calls fail with an
//     error wrapping ErrSilent and ErrClosed. A server that cannot be dialled
//     at all is unreachable: the same. A server that does not answer the
//     fresh PING either (DEBUG SLEEP, a slow KEYS, a stopped process) or
//     answers BUSY or LOADING (a long script, loading its data) is slow, not
//     lost: the Conn keeps waiting and asks again later, less and less
//     often. A big reply that arrives slowly keeps the Conn reading, so it
//     is never silent.
//   - Idle. A Conn with nothing in flight sends a PING once it has been
//     quiet for IdlePing (1 s), and discards the reply, so a connection that
//     died while idle is found out (by the check above) before a caller's
//     command is. It sends none while a MULTI sent by Do is open, nor after
//     CLIENT REPLY, MONITOR or a replication command.
//
// With the defaults, a lost connection is closed about 0.2 to 0.45 s after
// it went silent (the timer ticks every 50 ms while replies are owed, every
// 200 ms otherwise), and a Client has redialled by then. The probe's fresh
// connection does not authenticate (NOAUTH is an answer too). One slow case
// looks like a lost link: a command the server holds back without being
// busy itself, such as a write during CLIENT PAUSE, or a module's blocking
// command; raise SilenceTimeout above the longest such wait, or turn the
// check off. A Conn made by NewConn has no way to dial a probe, and runs
// neither check.
//
// # Bounds
//
// Nothing a Conn or a Client holds grows without a bound. The bytes of
// commands held for writing, in the write buffer and in the write in
// progress, the arguments written from the callers' strings included, stay
// below Options.MaxWriteBuffer (16 MiB): when the socket
// stops taking bytes, callers wait to append, each within its context, and
// the commands of callers that left count until they are dropped (which
// happens once they are half the buffer, or at the next write). A Client
// keeps at most Options.MaxDedicated (64) Conns besides its shared one for
// blocking commands and Dedicated; a call that needs one when all are on
// loan waits for one, within its context.
//
// The write buffers themselves follow the load: a busy Conn keeps buffers
// as big as its recent batches (within MaxWriteBuffer), so that a stream
// of large commands writes without growing a buffer for each batch, and
// once it has read nothing and owed nothing for a tick of its timer (0.2 s
// with the defaults, 1 s with both checks off) it lets go of any bigger
// than 8 KiB.
//
// # Lifecycle
//
// State moves only forward, by compare-and-swap: StateOpen, StateClosing,
// StateClosed. The Close that wins the swap from open stops the writer,
// closes the socket, fails every pending call with an error wrapping
// ErrClosed, waits for both goroutines and closes Done. Every other Close,
// concurrent or later, returns nil at once. When the connection breaks (a
// read or write error, EOF, a reply that loses the framing) the Conn closes
// itself the same way; pending calls fail with an error that says why and
// wraps both ErrClosed and the cause ("conn: connection lost: read tcp ...:
// EOF").
// A reply nobody asked for breaks the stream the same way (the cause wraps
// resp.ErrProtocol), also when the next command is sent before the reader
// gets to it: a reply is matched to the oldest command only if it began in
// bytes read from the socket after that command was written.
// SafeToRetry tells the failures of commands that were never written, which
// can be sent again elsewhere, from those that may have run. A closed Conn
// stays closed: dial a new one, or let Client do it.
//
// # Client-side caching
//
// Client.DoCache and Client.DoMultiCache answer read-only commands from a
// local cache kept right by the server's RESP3 tracking. It is on by
// default: a nil *Options gives a cache bounded at DefaultCacheMaxBytes
// (64 MiB); Options.CacheMaxBytes sets the bound, Options.Cache shares one
// Cache among Clients, Options.DisableCache switches caching off (DoCache
// then reads through, caching nothing). The rules:
//
//   - What is cacheable: a read-only command with keys at fixed positions
//     and deterministic output, as the server's COMMAND INFO says (GET,
//     MGET, HGETALL, SMEMBERS, EXISTS, STRLEN, ...). The Client asks about
//     each command name once and remembers. Anything else (writes, blocking
//     or keyless commands, movable keys as in SINTERCARD, nondeterministic
//     output as in SRANDMEMBER) is refused with an error, unsent. An entry
//     is keyed by the whole command; error replies are not cached.
//   - Tracking is OPTIN: the handshake sends CLIENT TRACKING ON OPTIN in the
//     same round trip as HELLO, and a cached read writes CLIENT CACHING YES,
//     the command and a PTTL per key together, with no MULTI/EXEC. Plain Do
//     reads are not tracked and cost the server no tracking memory.
//   - Invalidations: the goroutine that reads an invalidation push applies
//     it before it reads the next frame, so no later reply on the connection
//     is handed out first, whether that is the reader goroutine or a caller
//     reading its own reply (see Pipelining; such a caller also applies the
//     pushes that came with its reply before it returns). While the socket
//     is lent and no caller reads, an invalidation waits at most about two
//     milliseconds: the reader goroutine takes the socket back after a
//     millisecond in which no call read for itself. Invalidating key k
//     drops every entry that read k; a read in flight when k is
//     invalidated is answered but not cached; a null invalidation
//     (FLUSHALL, FLUSHDB) drops every entry of the connection.
//     A write through the same Client is acknowledged before the server's
//     invalidation for it arrives, a moment later.
//   - Lost connections: an entry is good only while the Conn it was read on
//     is open, so once a Conn closes (Close, a broken or killed connection,
//     a silent link found) none of its entries is returned again, and the
//     redial drops them.
//   - Expiry: an entry lives at most min(ttl, the key's PTTL), counted from
//     when the read was sent.
//   - Bound: the entries' estimated bytes stay within the bound; the least
//     recently used go first (second chance) and are counted as evictions
//     (see CacheStats). Callers missing the same entry at once share one
//     server read.
//   - RESP2: a connection without RESP3 (Options.Protocol 2, or a server
//     that refused HELLO) can't receive invalidations in band, so DoCache
//     reads through on it, caching nothing.
//   - Hits: a hit touches neither the network nor the Conn and allocates
//     nothing. It returns the cached Value itself, shared with every other
//     caller: don't modify the slices its Elems and Attrs return.
//
// # Observability
//
// Three ways to see what a Client does, all off by default and free while
// off:
//
//   - Options.Hooks, a struct of functions each of which may be nil. The same
//     Hooks reach every Conn made with the Options (a Client's shared Conn
//     and its redials, its dedicated Conns, a cluster's nodes, a
//     Subscriber's links). Command reports each Do and DoCmd (a DoCache read
//     on the network too) and Pipeline each DoMulti and DoMultiCmd, on the
//     caller's goroutine with its context, with the command's name (never
//     its arguments, unless Hooks.Statement asks for the text, secrets
//     redacted), the address and DB, the duration, the error and whether
//     the command was written. Dial reports each dial and handshake, State a
//     Conn starting to close (with why: ErrClosed for Close, the read or
//     write error for a lost connection, ErrSilent for a silent one) and
//     having closed, Redial each attempt of a Client to replace its shared
//     Conn, Cache the cache's hits, misses, evictions and invalidations. A
//     call whose hook is nil takes the path it takes without hooks: no clock
//     read, no allocation; a no-op hook set adds two clock reads per call
//     and no allocation. A hook that panics is recovered: its event is
//     dropped, nothing else changes, and the first panic of each field is
//     logged at Error on Options.Logger.
//   - Options.Logger, a *slog.Logger for the connection lifecycle: dial
//     failures of dedicated Conns, redials and failed redials, a connection
//     lost or silent (Warn), a Conn closed by its user (Debug), a panicking
//     hook (Error). Nothing is logged per command; no record holds a
//     password or a command's arguments.
//   - Client.Stats, a snapshot of counters over the Client's life (commands,
//     error replies, timeouts, dials, redials, Conns closed, bytes written
//     and read) and gauges (commands in flight and bytes waiting on the
//     shared Conn, dedicated Conns on loan and open, the cache's figures),
//     cheap enough to read every second. The counters are kept by the
//     goroutines that already serialize the work (the reader counts
//     replies, the writer bytes), so counting adds no contended write to a
//     caller's path. Conn.Stats is the same for one Conn.
//
// # Example
//
//	c, err := conn.Dial(ctx, "127.0.0.1:6379", &conn.Options{ClientName: "worker"})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	v, err := c.Do(ctx, "GET", "greeting")
//	if err != nil {
//		return err
//	}
//	s, _ := v.Text()
package conn
