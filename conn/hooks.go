package conn

import (
	"context"
	"time"
)

// Hooks are the functions a Conn, and every Conn a Client dials, call as
// they work, for metrics, tracing and logs (see the package documentation,
// Observability). Each field may be nil; a nil *Hooks, or a nil field, costs
// nothing on the paths it would report: no clock read, no allocation.
//
// The same *Hooks given in Options reach every Conn made with those Options:
// a Client's shared Conn and every redial, its dedicated Conns (blocking
// commands, Dedicated), a cluster's node connections and a Subscriber's
// links, so one set of hooks sees a whole deployment.
//
// Hooks run synchronously on the goroutine that did the work: Command and
// Pipeline on the caller's, after its reply arrived and before its call
// returns; the others on whichever goroutine dialled, redialled or closed;
// Cache's hits and misses on the caller's, its evictions on the caller
// whose read filled the cache, its invalidations on the goroutine that read
// the server's invalidation or dropped the connection's entries. None runs
// under a lock of the Conn or the cache.
// They must be quick, must not block, and must not call the Conn or Client
// that reports to them. Events and the values they hold are the hook's for
// the length of the call only: copy what you keep.
//
// Hooks must not be changed once given to Options: the Conns read its
// fields as they work, without a lock.
//
// A hook that panics does not break anything: the panic is recovered, the
// event is dropped, the Conn and its replies carry on, and the panic is
// logged once per hook field at slog.LevelError on Options.Logger when one
// is set (with the panic's value and stack), dropped otherwise.
type Hooks struct {
	// Command reports one command's call on one Conn (Do, DoCmd), on the
	// caller's goroutine with the caller's context, so a tracer may parent
	// a span on it. A Client's call reports through the Conn it ran on; one
	// that met a closing Conn and went on to the next reports twice, the
	// first time with Written false.
	Command func(ctx context.Context, e CommandEvent)
	// Pipeline reports one DoMulti or DoMultiCmd call.
	Pipeline func(ctx context.Context, e PipelineEvent)
	// Dial reports one dial and handshake of a Conn, successful or not.
	Dial func(ctx context.Context, e DialEvent)
	// State reports a Conn leaving StateOpen (to StateClosing) and reaching
	// StateClosed, with why.
	State func(e StateEvent)
	// Redial reports a Client's attempt to replace its shared Conn.
	Redial func(e RedialEvent)
	// Cache reports the client-side cache's hits, misses, evictions and
	// invalidations (see DoCache) of the Client given these Options.
	Cache func(e CacheEvent)

	// Statement, when true, fills CommandEvent.Statement and
	// PipelineEvent.Statement with the commands' text (one allocation per
	// call). Off, no event holds any argument.
	Statement bool
}

// StatementMax is the most bytes of command text an event's Statement holds.
const StatementMax = 1024

// CommandEvent describes one command's call.
type CommandEvent struct {
	// Name is the command's name as the caller wrote it (its first
	// argument, e.g. "GET" or "get"), never an argument.
	Name string
	// Addr is the server's address, as dialled ("host:port"); DB the
	// database the Conn selected in its handshake (Options.DB).
	Addr string
	DB   int
	// Statement is the command's text, its arguments separated by spaces,
	// only when Hooks.Statement is set. Secrets are replaced by "?": the
	// arguments of AUTH, the username and password after HELLO's AUTH,
	// MIGRATE's AUTH and AUTH2 arguments, the value of CONFIG SET
	// requirepass, masterauth and the TLS key passphrases, every rule of
	// ACL SETUSER (after the username), and SENTINEL's auth-pass and
	// sentinel-pass; the rest, CLIENT SETNAME's name included, is shown as
	// it is. The text is cut at StatementMax bytes, never inside a
	// character.
	Statement string
	// Start is when the call began; Duration how long it took to return.
	Start    time.Time
	Duration time.Duration
	// Err is the call's error: a transport error, ctx's, or the server's
	// error reply (a *resp.Error), as Do returns it.
	Err error
	// Written reports whether the command reached the write buffer to be
	// sent: false when it was refused or its context ended before that, so
	// the server never ran it.
	Written bool
}

// PipelineEvent describes one DoMulti call.
type PipelineEvent struct {
	// Len is the number of commands; Name the first one's name.
	Len  int
	Name string
	Addr string
	DB   int
	// Statement is as in CommandEvent, the commands separated by
	// newlines, the whole cut at StatementMax bytes.
	Statement string
	// Start is when the call began; Duration how long it took to return.
	Start    time.Time
	Duration time.Duration
	// Err is the call's error (not its commands' error replies, which are
	// counted in Errors).
	Err error
	// Errors is the number of commands whose reply is an error reply.
	Errors int
	// Written is as in CommandEvent.
	Written bool
}

// DialEvent describes one dial and handshake.
type DialEvent struct {
	Addr     string
	Start    time.Time
	Duration time.Duration
	// Err is why the dial or handshake failed; nil when it succeeded.
	Err error
}

// StateEvent describes a Conn's change of State.
type StateEvent struct {
	Addr string
	// From and To are the old and new State: StateOpen to StateClosing
	// when the Conn starts closing, StateClosing to StateClosed when it
	// has closed.
	From, To State
	// Cause is why the Conn closes, as Conn.Err returns it: ErrClosed
	// itself for Close; for a lost connection an error wrapping ErrClosed
	// and the read or write error; for a silent one, an error that wraps
	// ErrSilent and ErrClosed too.
	Cause error
}

// RedialEvent describes one attempt of a Client to replace its shared Conn
// after it broke.
type RedialEvent struct {
	// Addr is the address dialled: the new Conn's when the attempt
	// succeeded; NewClient's address when it failed, "" for a Client of
	// NewClientFunc (whose error names the address it tried).
	Addr string
	// Attempt counts the attempts since the Conn broke, from 1.
	Attempt  int
	Duration time.Duration
	// Err is why the attempt failed; nil when the new Conn is in place.
	Err error
}

// CacheEventKind says what happened in the client-side cache.
type CacheEventKind int

const (
	CacheHit          CacheEventKind = iota + 1 // a DoCache answered from the cache
	CacheMiss                                   // a DoCache read from the server (with caching off too)
	CacheEviction                               // entries dropped to stay under the bound
	CacheInvalidation                           // entries dropped by the server's invalidation, a lost connection or a flush
)

// CacheEvent describes one cache event.
type CacheEvent struct {
	Kind CacheEventKind
	// Name is the command's name, for hits and misses.
	Name string
	// Entries is the number of entries dropped, for evictions and
	// invalidations; 1 for hits and misses.
	Entries int
}
