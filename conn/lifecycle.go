package conn

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/respwire/respwire/resp"
)

// State is where a Conn is in its life. It only moves forward:
// StateOpen → StateClosing → StateClosed.
type State int32

const (
	// StateOpen: commands are accepted.
	StateOpen State = iota
	// StateClosing: Close was called or the connection broke; new commands
	// fail with ErrClosed, pending ones are being failed.
	StateClosing
	// StateClosed: the socket is closed and every goroutine has exited.
	StateClosed
)

var stateNames = [...]string{StateOpen: "open", StateClosing: "closing", StateClosed: "closed"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Conn is one connection to a Redis server, shared by any number of
// goroutines: their commands are pipelined on the socket and each gets its
// own reply. See the package documentation.
type Conn struct {
	nc   net.Conn
	sock countedReads // nc as rd reads it, numbering the reads
	// plain: nc is a TCP or Unix socket of the standard library's (see
	// plainSocket).
	plain bool
	rd    *resp.Reader
	// readSizing decides the size of rd's buffer, for whoever reads the
	// socket; readSize is that size, for tests (see sizeReadBuffer).
	readSizing readSizing
	readSize   atomic.Int64
	readGrows  atomic.Int64 // times the buffer grew, for tests
	addr       string
	proto      int
	onPush     func(resp.Value)
	pubsub     pubsubIntake  // Options.OnPubSubMessage (see pubsub_message.go)
	db         int           // Options.DB, for hook events
	hooks      *Hooks        // Options.Hooks; nil costs nothing (see Hooks)
	logger     *slog.Logger  // Options.Logger; nil logs nothing
	subs       subscriptions // RESP2 only; the reader's

	// run holds the replies readNext decodes at once, for whoever reads
	// the socket; made at the first run. multis counts the DoMulti and
	// DoMultiCmd calls in flight: while there are any, readNext decodes
	// the first reply of a socket read in the run too.
	run    []resp.Value
	multis atomic.Int32

	tracking connTracking // client-side caching; see cache_conn.go

	state      atomic.Int32  // a State
	kick       chan struct{} // capacity 1: wakes the writer
	stop       chan struct{} // closed by the teardown: the writer exits
	writerDone chan struct{} // closed when the writer exited
	done       chan struct{} // closed when both goroutines exited and the state is StateClosed

	mu      sync.Mutex
	wbuf    []byte         // commands not yet taken for writing (see also held)
	spare   []byte         // the other buffer, nil while a write holds it
	sizing  bufferSizing   // which buffers are kept for reuse
	writing bool           // a taken buffer is being written (by the writer or a caller)
	pending pendingReplies // requests in wire order; the unwritten ones have their bytes in wbuf
	// inWrite is the size of the buffer a write holds, its held arguments
	// included; maxPending bounds inWrite+len(wbuf)+held.bytes (see
	// waitRoom), whose waiters room wakes.
	inWrite    int
	maxPending int
	room       chan struct{}
	txOpen     bool  // a MULTI sent by Do is not yet closed by EXEC or DISCARD
	noPing     bool  // a command was sent that a later PING would disturb (see noteState)
	err        error // set once, by the teardown: why commands are refused

	counts        connCounts                  // for Stats; see stats.go
	statsSink     atomic.Pointer[clientStats] // the Client whose Stats count this Conn, if any
	writes        atomic.Uint64               // write syscalls, for benchmarks
	writeProgress atomic.Uint64               // pieces of big buffers written but the last (see flush)

	// carriesState is set when a command that leaves state on the
	// connection beyond a transaction (SELECT, CLIENT TRACKING, a Send's
	// subscription, ...) was sent: a Client then closes the Conn instead
	// of pooling it (see Dedicated).
	carriesState atomic.Bool

	reading    socketOwnership // who reads the socket: readByReader, readLent or readByCaller
	reclaim    atomic.Bool     // the reader goroutine wants the socket back from a caller
	inPush     atomic.Bool     // the reader goroutine is in OnPush (see push)
	inStream   atomic.Bool     // the reading goroutine is in a DoStream's writer
	lendFor    atomic.Int64    // how long the socket is lent, in nanoseconds: lendWindow (tests lengthen it)
	ownReads   atomic.Uint64   // calls that read their own reply, for tests and benchmarks
	wakeReader chan struct{}   // capacity 1: wakes the reader goroutine from lend
	streams    atomic.Int32    // DoStream requests not yet recycled (see readFrame)
	// readDeadline: a caller set a read deadline on the socket, which only
	// the socket's reader of the moment touches (see clearReadDeadline).
	readDeadline bool

	spares sync.Pool // requests for reuse; see getRequest

	live    liveness           // silence detection and idle PINGs (see liveness.go)
	life    context.Context    // ends when the Conn starts closing: bounds its probes
	endLife context.CancelFunc // ends life

	// The arguments held out of the write buffer (see appendCommand),
	// under mu like wbuf: held are wbuf's, spareHeld the other list, nil
	// while a write holds it. vector belongs to whoever is writing (see
	// writing).
	held      heldArgs
	spareHeld []heldArg
	vector    vectorWriter
}

// State reports where the Conn is in its life.
func (c *Conn) State() State { return State(c.state.Load()) }

// Done is closed once the Conn is StateClosed: its socket is closed and its
// goroutines have exited, whether Close was called or the connection broke.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the Conn is closing or closed: nil while it is open, else
// an error wrapping ErrClosed and, when the connection was lost rather than
// closed by Close, the cause (a read error, ErrSilent, ...).
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Protocol is the RESP version the connection speaks: 3, or 2 when forced by
// Options.Protocol or when the server refused HELLO.
func (c *Conn) Protocol() int { return c.proto }

// Addr is the address the Conn was dialled at (for NewConn, the peer's).
func (c *Conn) Addr() string { return c.addr }

// Close tears the connection down: it stops the writer, closes the socket,
// fails every pending command with an error wrapping ErrClosed and waits for
// the Conn's goroutines to exit. Only the first call does this; every other
// call, concurrent or later, returns nil at once. Close always returns nil.
func (c *Conn) Close() error {
	if c.closeWith(ErrClosed) {
		<-c.done
	}
	return nil
}

// closeWith moves the Conn from open to closing and, when this call won the
// move, fails everything with cause and closes the socket, which makes the
// reader exit; the reader then waits for the writer and closes done. It
// reports whether this call won.
func (c *Conn) closeWith(cause error) bool {
	if !c.state.CompareAndSwap(int32(StateOpen), int32(StateClosing)) {
		return false
	}
	c.mu.Lock()
	c.err = cause
	pending, written := c.pending.drain()
	for _, r := range pending[:written] {
		if r.state.Load() != requestAbandoned {
			c.counts.errors++ // written, and failed without its reply
		}
	}
	c.wbuf, c.held = nil, heldArgs{}
	c.madeRoom()
	c.mu.Unlock()

	close(c.stop)
	c.endLife()
	c.nc.Close()
	for i, r := range pending {
		r.err = cause
		if i >= written {
			r.err = &unsentError{cause}
		}
		r.answer()
	}
	c.closing(cause)
	return true
}

// closing tells the hooks and the log that c started closing with cause.
func (c *Conn) closing(cause error) {
	if c.logger != nil {
		switch {
		case cause == ErrClosed:
			c.logger.Debug("conn: connection closed", slog.String("addr", c.addr))
		case errors.Is(cause, ErrSilent):
			c.logger.Warn("conn: connection silent", slog.String("addr", c.addr), slog.String("err", cause.Error()))
		default:
			c.logger.Warn("conn: connection lost", slog.String("addr", c.addr), slog.String("err", cause.Error()))
		}
	}
	c.fireState(StateOpen, StateClosing, cause)
}

// start runs the Conn's two goroutines; the handshake is done.
func (c *Conn) start() {
	c.life, c.endLife = context.WithCancel(context.Background())
	c.wakeReader = make(chan struct{}, 1)
	c.lendFor.Store(int64(lendWindow))
	go c.writeLoop()
	go c.readLoop()
}

// finish is the reader's last act: once the writer has exited too, the Conn
// is closed.
func (c *Conn) finish() {
	<-c.writerDone
	c.stopLiveness()
	c.state.Store(int32(StateClosed))
	if s := c.statsSink.Load(); s != nil {
		s.retire(c)
	}
	if c.hooks != nil && c.hooks.State != nil {
		c.fireState(StateClosing, StateClosed, c.Err())
	}
	close(c.done)
}
