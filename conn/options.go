package conn

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/respwire/respwire/internal/cache"
	"github.com/respwire/respwire/resp"
)

// Options configures a Conn. The zero value (or a nil *Options) dials plain
// TCP, speaks RESP3 and authenticates as nobody.
type Options struct {
	// Username and Password authenticate the connection. With only a
	// Password, the user is "default". Credentials, when set, takes their
	// place.
	Username, Password string
	// Credentials, when not nil, supplies the username and password at
	// every dial, in place of Username and Password: for passwords that
	// are rotated and for short-lived tokens (cloud IAM). Dial calls it
	// before each handshake, so every Conn a Client dials asks it afresh:
	// the first, every redial (those after a WRONGPASS included, so a
	// rotated password is picked up by the next redial), the dedicated
	// Conns, and through them every cluster node and pub/sub connection.
	// It runs with the dial's context, within the dial's time limit, and
	// may be called from many goroutines at once. An empty password means
	// no authentication; an empty username with a password means
	// "default". An error fails that dial, wrapped as "conn: credentials
	// for <addr>: ...": it must not hold the secret itself. The password
	// never appears in an error or a log.
	Credentials func(ctx context.Context) (username, password string, err error)
	// ClientName is set with the handshake (CLIENT SETNAME) when not empty.
	ClientName string
	// DB is selected with the handshake when not 0.
	DB int
	// Protocol is 3 (the default, also for 0) or 2. With 3, a server that
	// refuses HELLO is spoken to in RESP2 instead.
	Protocol int
	// TLSConfig turns on TLS when not nil. An empty ServerName is taken
	// from the address's host.
	TLSConfig *tls.Config
	// DialTimeout bounds dialling and the handshake together; 0 means no
	// bound beyond the context's.
	DialTimeout time.Duration
	// OnPush receives push frames (RESP3 '>'), which answer no command:
	// pub/sub messages and confirmations, client-tracking invalidations.
	// It runs on the Conn's reader goroutine, so replies wait while it
	// runs (a slow OnPush slows the socket read: backpressure, not loss).
	// It must not call the same Conn's Do, DoMulti, Send or Close, which
	// wait for the reader; hand those to another goroutine. It must not
	// block forever either: Close waits for it to return. Nil drops push
	// frames. A panic in OnPush is not recovered: like a panic on any
	// goroutine, it crashes the program at once.
	OnPush func(resp.Value)
	// OnPubSubMessage, when not nil, receives the pub/sub messages
	// ("message", "pmessage" and "smessage" frames of bulk strings that
	// fit in the read buffer) in place of OnPush, without their being
	// decoded into a resp.Value: its PubSubMessage borrows the read
	// buffer, valid only until it returns, so a receiver that copies
	// only what it keeps allocates nothing else. Any other message, and
	// every other push frame, still goes to OnPush. It runs on the
	// reader goroutine, in the order of the stream, under OnPush's
	// rules.
	OnPubSubMessage func(PubSubMessage)
	// OnConnect, when not nil, runs on every new Conn a Client dials, right
	// after the handshake and before any command of the Client's callers:
	// the first Conn, every redial, and the dedicated Conns of blocking
	// commands and Dedicated. It is for per-connection state that must
	// survive redials, such as READONLY on a cluster replica. It runs with
	// the dial's context, within the dial's time limit (the Client bounds
	// each dial by DialTimeout, 10 s when 0); it must not close c or keep
	// it. An error fails that dial: NewClient returns it, a redial is
	// tried again later, a blocking command or Dedicated call returns it.
	// Dial does not call it.
	OnConnect func(ctx context.Context, c *Conn) error

	// Observability (see the package documentation, Observability).
	//
	// Hooks, when not nil, are called as every Conn made with these
	// Options works: commands, pipelines, dials, state changes, redials
	// and the cache. See Hooks.
	Hooks *Hooks
	// Logger, when not nil, receives the connection lifecycle: a Client's
	// redials, failed or not, and the failed dials of its dedicated Conns
	// (Warn; the first dial's failure is NewClient's error, a Conn's
	// Dial's is its own); a connection found silent or lost (Warn); a Conn
	// closed by its user (Debug); a panicking hook (Error). Nothing is
	// logged per command, and no record holds a password or a command's
	// arguments. Nil logs nothing. Its handler runs on the goroutine that
	// logs (a caller's, a Conn's reader or writer, the redial loop), so a
	// slow one delays that work; unlike a hook's, its panic is not
	// recovered.
	Logger *slog.Logger

	// Client-side caching (Client.DoCache and DoMultiCache; see the
	// package documentation). Dial ignores these.

	// CacheMaxBytes bounds the Client's cache, in bytes as NewCache
	// estimates them; 0 means DefaultCacheMaxBytes (64 MiB). Ignored when
	// Cache is set.
	CacheMaxBytes int64
	// Cache, when not nil, is where the Client keeps its entries, sharing
	// the Cache's bound with the other Clients given it.
	Cache *Cache
	// DisableCache switches caching off: connections don't turn tracking
	// on and DoCache and DoMultiCache read through, caching nothing.
	DisableCache bool

	// cacheStore, set by a Client with caching on, makes the handshake turn
	// tracking on and the Conn hand invalidations to the store.
	cacheStore *cache.Store

	// MaxReplyElements bounds the elements of one reply, at every depth
	// together (a map's keys and values both count), as
	// resp.Reader.SetMaxElements does; 0 means resp.DefaultMaxElements
	// (1<<24, about 16.8 million). MaxBulkLen bounds one bulk string, bulk
	// error or verbatim string, as resp.Reader.SetMaxBulkLen does; 0 means
	// resp.DefaultMaxBulkLen (512 MiB, the server's own proto-max-bulk-len).
	// They apply to every reply after the handshake.
	//
	// A reply over either limit fails its own call only: the Conn reads it
	// to its end without keeping it and the call gets an error wrapping
	// resp.ErrTooLarge (a *resp.SkippedError), while every other caller's
	// reply is delivered as usual. The same holds for a reply holding a
	// scalar the codec refuses (see resp.SkippedError). A push frame over a
	// limit, which answers no call, still closes the Conn, since dropping
	// it would lose a message silently.
	MaxReplyElements int
	MaxBulkLen       int64

	// Liveness: how a Conn made by Dial finds out that its connection is
	// lost although the socket stays open (see the package documentation,
	// Liveness). A Conn made by NewConn has neither check.
	//
	// SilenceTimeout is how long a Conn that owes replies (other than to a
	// blocking command such as BLPOP) may read nothing, and write nothing,
	// before it asks its server on a fresh connection whether it answers.
	// When the server answers there while this connection stays silent, or
	// cannot be dialled at all, the Conn closes with an error wrapping
	// ErrSilent and ErrClosed; a server that does not answer there either,
	// or answers BUSY or LOADING, is slow, not lost, and the Conn keeps
	// waiting. 0 means 200 ms; a negative value turns the check off.
	SilenceTimeout time.Duration
	// IdlePing is how long a Conn with nothing in flight stays quiet before
	// it sends a PING (its reply is discarded), so that a connection that
	// died while idle is found out before a caller's command is. 0 means
	// 1 s (at most one PING a second per idle connection); a negative value
	// turns it off.
	IdlePing time.Duration

	// Bounds.
	//
	// MaxWriteBuffer bounds the bytes of commands a Conn holds for writing:
	// those in its write buffer (commands whose callers left included,
	// until they are dropped) and those of the write in progress. A command
	// is appended only while they are fewer; its caller waits otherwise,
	// within its context (ctx.Err(), nothing sent, when it ends), for the
	// socket to take bytes again. One command bigger than the bound is
	// written alone. The two buffers (the one being written, the one
	// filling) take at most about twice the bound in memory. 0 means
	// 16 MiB.
	MaxWriteBuffer int
	// MaxDedicated bounds the Conns a Client has open besides its shared
	// one: those of blocking commands (BLPOP, WAIT, XREAD ... BLOCK, ...)
	// and of Dedicated, idle ones included. A call that needs one when all
	// are on loan waits, within its context, for one to come back (so a
	// Dedicated fn that makes blocking calls of the same Client can wait
	// for itself when all are held that way). 0 means 64. Conn ignores it.
	MaxDedicated int
}
