package conn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/internal/backoff"
	"github.com/respwire/respwire/resp"
)

// Redial backoff: the first redial is immediate, later ones wait from
// minBackoff doubling up to maxBackoff, each with random jitter. After a
// handshake the server refused (WRONGPASS, NOPERM: see refused), which the
// next attempt will most likely meet again, they wait longer: from
// minRefusedBackoff doubling up to maxRefusedBackoff. So a fixed password
// (or a provider that now has the new one) is picked up within about
// maxRefusedBackoff.
const (
	minBackoff        = 10 * time.Millisecond
	maxBackoff        = time.Second
	minRefusedBackoff = 500 * time.Millisecond
	maxRefusedBackoff = 10 * time.Second

	// defaultDialTimeout bounds one dial and handshake of a Client when
	// Options.DialTimeout is zero, so that a server that accepts and then
	// says nothing cannot hold the redial loop forever.
	defaultDialTimeout = 10 * time.Second
)

// Client is one server, always there: it keeps one auto-pipelined Conn to
// the server and redials it, with backoff, whenever it dies. Commands from
// every goroutine share that Conn, except blocking commands (BLPOP, WAIT,
// XREAD ... BLOCK and the like) and Dedicated calls, which get a Conn of
// their own from a small pool.
//
// A command goes to the next Conn only when the current one failed it
// without writing it (SafeToRetry): it met a closing Conn, or was still in
// the write buffer when the Conn closed. A command that may have reached the
// server is never sent twice: when the Conn breaks under it, its caller gets
// the error (it wraps ErrClosed) and decides, since only the caller knows
// whether the command is safe to repeat.
//
// While the server can't be reached, calls don't wait for it: a call that
// meets a dead Conn waits for the redial under way (at most about
// DialTimeout) and, when that fails, returns an error that wraps the dial's
// (a refused connection, a timeout, or the server's own *resp.Error such as
// WRONGPASS, never the password) and satisfies SafeToRetry. So does every
// call made until a redial succeeds, whatever its context. Dedicated and
// blocking commands fail the same way then.
//
// Commands that change the state of their connection (WATCH, MULTI, SELECT,
// CLIENT REPLY, MONITOR, HELLO, ...: see ErrSharedState) are refused by Do
// and DoMulti, unsent, since the shared Conn is everyone's: use DoMulti for
// MULTI ... EXEC written in one piece, or Dedicated.
// Options.OnPush receives the push frames of every Conn of the Client, and
// Options.OnConnect runs on each Conn it dials.
type Client struct {
	// current is the shared Conn. It may have died; the redial goroutine
	// then replaces it, and calls that meet the dead one wait for that.
	current atomic.Pointer[Conn]
	state   atomic.Int32 // a State: open, then closing, then closed
	dial    func(ctx context.Context) (*Conn, error)
	pool    *connPool
	cache   *clientCache // client-side caching; see cache_client.go
	stats   *clientStats // the counters of every Conn it dialled; see Stats
	addr    string       // the address NewClient dials; "" for NewClientFunc
	hooks   *Hooks       // Options.Hooks: its Redial and Cache are the Client's
	logger  *slog.Logger // Options.Logger
	// credentials asks for the username and password (see Reauthenticate);
	// nil for a Client made by newClient alone.
	credentials func(ctx context.Context) (username, password string, err error)

	mu       sync.Mutex
	replaced chan struct{} // closed when current changes, a redial fails, or the Client closes
	dialErr  error         // why the latest redial failed; nil again once one succeeds

	stopRedial context.CancelFunc // ends the redial goroutine and its dials
	redialDone chan struct{}      // closed when the redial goroutine exits

	done chan struct{} // closed when Close has finished (see Done)
}

// NewClient dials addr and returns a Client that keeps a Conn to it. opts
// may be nil; the Client keeps a copy. The first dial uses ctx and its
// failure is returned; later redials happen in the background, until Close.
func NewClient(ctx context.Context, addr string, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	cc := newClientCache(&o)
	c, err := newObservedClient(ctx, func(ctx context.Context) (*Conn, error) {
		return dialClientConn(ctx, addr, &o)
	}, addr, &o)
	if err != nil {
		return nil, err
	}
	c.cache = cc
	c.observeCache()
	c.credentials = func(ctx context.Context) (string, string, error) { return credentials(ctx, addr, &o) }
	c.pool.setMaxOpen(o.MaxDedicated)
	return c, nil
}

// dialClientConn dials one of a Client's Conns and runs opts.OnConnect on
// it.
func dialClientConn(ctx context.Context, addr string, opts *Options) (*Conn, error) {
	cn, err := Dial(ctx, addr, opts)
	if err != nil || opts.OnConnect == nil {
		return cn, err
	}
	if err := opts.OnConnect(ctx, cn); err != nil {
		_ = cn.Close()
		return nil, fmt.Errorf("conn: OnConnect for %s: %w", addr, err)
	}
	return cn, nil
}

// newClient is NewClient with any way of making a Conn, such as over
// net.Pipe in tests.
func newClient(ctx context.Context, dial func(context.Context) (*Conn, error), dialTimeout time.Duration) (*Client, error) {
	return newObservedClient(ctx, dial, "", &Options{DialTimeout: dialTimeout})
}

// newObservedClient is newClient reporting to opts.Hooks and opts.Logger,
// its redials for addr ("" when unknown: the Conns' own then).
func newObservedClient(ctx context.Context, dial func(context.Context) (*Conn, error), addr string, opts *Options) (*Client, error) {
	dialTimeout := opts.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = defaultDialTimeout
	}
	stats := newClientStats()
	boundedDial := func(ctx context.Context) (*Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		cn, err := dial(ctx)
		if err == nil {
			stats.track(cn)
		}
		return cn, err
	}
	cn, err := boundedDial(ctx)
	if err != nil {
		return nil, err
	}
	life, stop := context.WithCancel(context.Background())
	c := &Client{
		dial:       boundedDial,
		pool:       newConnPool(loggedDial(boundedDial, opts.Logger), defaultMaxIdle),
		cache:      &clientCache{}, // off; NewClient sets it up
		stats:      stats,
		addr:       addr,
		hooks:      opts.Hooks,
		logger:     opts.Logger,
		replaced:   make(chan struct{}),
		stopRedial: stop,
		redialDone: make(chan struct{}),
		done:       make(chan struct{}),
	}
	c.current.Store(cn)
	go c.redialLoop(life)
	return c, nil
}

// Do sends one command and returns its reply, as Conn.Do does: on the
// shared Conn, or on a dedicated one for a blocking command. A call made
// while the shared Conn is being redialled waits for that redial, within
// ctx, and fails unsent with the dial's error if it fails (see Client).
// After Close it returns ErrClosed. A command that would change the
// shared Conn's state is refused unsent with an error wrapping
// ErrSharedState.
func (c *Client) Do(ctx context.Context, args ...string) (resp.Value, error) {
	if err := checkShared(args); err != nil {
		return resp.Value{}, err
	}
	if isBlocking(args) {
		return c.doBlocking(ctx, args)
	}
	cn := c.current.Load()
	for {
		v, err := cn.Do(ctx, args...)
		if !retryable(err) {
			return v, err
		}
		if cn, err = c.next(ctx, cn); err != nil {
			return resp.Value{}, err
		}
	}
}

// Connected reports whether the Client's shared Conn is open. It is false
// from the moment that Conn breaks until a redial replaces it, and after
// Close; calls made meanwhile wait for the new Conn (or fail after Close). A
// cluster client uses it to notice a node that went away before its calls
// wait for it.
func (c *Client) Connected() bool {
	return c.current.Load().State() == StateOpen
}

// DoMulti sends cmds written contiguously and returns their replies in
// order, as Conn.DoMulti does. If any of them is blocking, all of them run
// on a dedicated Conn. A batch that would leave state on the shared Conn is
// refused unsent with an error wrapping ErrSharedState; MULTI ... EXEC (or
// DISCARD) whole within the batch, WATCH before it included, is allowed.
func (c *Client) DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	info := inspectBatch(cmds)
	if info.stateful {
		if err := checkSharedBatch(cmds); err != nil {
			return nil, err
		}
	}
	if info.err != nil {
		return nil, info.err
	}
	if info.blocking {
		return c.doMultiBlocking(ctx, cmds)
	}
	cn := c.current.Load()
	for {
		vs, err := cn.doMultiInspected(ctx, cmds, info)
		if !retryable(err) {
			return vs, err
		}
		if cn, err = c.next(ctx, cn); err != nil {
			return nil, err
		}
	}
}

// retryable reports whether err is a Conn's refusal of a command it never
// wrote (see SafeToRetry), which the Client sends again on the next Conn.
// It is quick about the common cases: no error, or a server's error reply.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := err.(*resp.Error); ok {
		return false
	}
	return SafeToRetry(err)
}

// errClientClosed is what a call gets when the Client is closed before the
// call was written: after Close, or when Close ends its wait for a redial.
// It wraps ErrClosed and is SafeToRetry, so a caller with another way to the
// server (a cluster client after a failover) may send the command there.
var errClientClosed error = &unsentError{cause: fmt.Errorf("conn: client closed: %w", ErrClosed)}

// next waits until the shared Conn is no longer old and returns the new one.
// When a redial has failed since old died, it returns at once an error
// wrapping the dial's (see unreachable).
func (c *Client) next(ctx context.Context, old *Conn) (*Conn, error) {
	for {
		c.mu.Lock()
		replaced, dialErr := c.replaced, c.dialErr
		c.mu.Unlock()
		if State(c.state.Load()) != StateOpen {
			return nil, errClientClosed
		}
		if cn := c.current.Load(); cn != old {
			return cn, nil
		}
		if dialErr != nil {
			return nil, unreachable(dialErr)
		}
		select {
		case <-replaced:
		case <-ctx.Done():
			c.stats.timeouts.Add(1) // waited for the redial until ctx ended
			return nil, ctx.Err()
		}
	}
}

// redialLoop replaces the shared Conn each time it dies, until life ends.
func (c *Client) redialLoop(life context.Context) {
	defer close(c.redialDone)
	for {
		old := c.current.Load()
		select {
		case <-old.Done():
		case <-life.Done():
			return
		}
		c.connLost(old)
		cn, ok := c.redial(life)
		if !ok || !c.install(cn) {
			return
		}
		c.stats.redials.Add(1)
	}
}

// redial dials until it succeeds or life ends: at once, then with backoff.
// Each failure is told to the calls waiting for a Conn (see dialFailed).
func (c *Client) redial(life context.Context) (*Conn, bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			wait := redialBackoff.Delay(attempt)
			if refused(lastErr) {
				wait = refusedBackoff.Delay(attempt)
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-life.Done():
				return nil, false
			}
		}
		start := time.Now()
		cn, err := c.dial(life)
		if err == nil {
			c.redialed(cn, attempt+1, start)
			return cn, true
		}
		if life.Err() != nil {
			return nil, false
		}
		c.redialFailed(attempt+1, start, err)
		lastErr = err
		c.dialFailed(err)
	}
}

// redialBackoff spaces the redials: the wait before redial attempt n (n ≥
// 1) is between half of minBackoff doubled n-1 times (capped at maxBackoff)
// and all of it, at random, so that many clients do not redial in step.
var redialBackoff = backoff.Policy{Min: minBackoff, Max: maxBackoff}

// refusedBackoff spaces the redials after a refused handshake (WRONGPASS,
// NOPERM, ...): the same credentials will most likely be refused again, so
// the server is asked far less often.
var refusedBackoff = backoff.Policy{Min: minRefusedBackoff, Max: maxRefusedBackoff}

// dialFailed records why a redial failed and wakes the calls waiting for a
// Conn, which then fail with it (see next).
func (c *Client) dialFailed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dialErr = err
	close(c.replaced)
	c.replaced = make(chan struct{})
}

// unreachable is the error of a call made while the Client has no Conn
// because the latest redial failed with err. The call was not sent, so it
// satisfies SafeToRetry.
func unreachable(err error) error {
	return &unsentError{cause: fmt.Errorf("conn: no connection, the last dial failed: %w", err)}
}

// refused reports whether a dial failed because the server refused the
// handshake (WRONGPASS, NOPERM, NOAUTH, ...) rather than for want of a
// connection: the same credentials will most likely be refused again.
func refused(err error) bool {
	var serverErr *resp.Error
	return err != nil && errors.As(err, &serverErr)
}

// install makes cn the shared Conn and wakes the calls waiting for one. It
// closes cn instead if the Client is closing.
func (c *Client) install(cn *Conn) bool {
	c.mu.Lock()
	if State(c.state.Load()) != StateOpen {
		c.mu.Unlock()
		_ = cn.Close()
		return false
	}
	c.current.Store(cn)
	c.dialErr = nil
	close(c.replaced)
	c.replaced = make(chan struct{})
	c.mu.Unlock()
	return true
}

// Close closes the shared Conn and every dedicated one, stops redialling
// and waits for the redial goroutine to exit. Calls in flight on the shared
// Conn fail with an error that wraps ErrClosed, as do calls made after Close;
// calls that were not written yet (waiting for a redial, or made after
// Close) also satisfy SafeToRetry.
// Only the first call does this; every other call, concurrent or later,
// returns nil at once.
func (c *Client) Close() error {
	if !c.state.CompareAndSwap(int32(StateOpen), int32(StateClosing)) {
		return nil
	}
	c.mu.Lock()
	close(c.replaced) // wake the waiters; they see the state and give up
	c.mu.Unlock()
	c.stopRedial()
	<-c.redialDone
	last := c.current.Load()
	_ = last.Close()
	c.connLost(last) // its cache entries, in a Cache other Clients may share
	c.unobserveCache()
	c.pool.close()
	// A Conn that broke by itself was closing already, so its Close
	// returned at once: wait until each such Conn has closed (and told its
	// hooks), as Done promises.
	for _, cn := range c.stats.closing() {
		<-cn.Done()
	}
	c.state.Store(int32(StateClosed))
	close(c.done)
	return nil
}

// Done is closed once the Client is closed: Close has closed every Conn of
// the Client, those that broke and were still closing included (their
// StateClosed events reported), and its redial goroutine has exited. As for Conn.Done, only
// Close ends a Client: a lost connection is redialled.
func (c *Client) Done() <-chan struct{} { return c.done }
