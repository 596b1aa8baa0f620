package sentinel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/backoff"
	"github.com/respwire/respwire/resp"
)

// directory is what a Client knows of its deployment: the master, the
// sentinels, and every Conn it made to the master, so that they can be
// closed the moment the sentinels announce another one.
type directory struct {
	name    string       // the master's name at the sentinels
	sopts   conn.Options // of every sentinel connection
	timeout time.Duration
	logger  *slog.Logger    // Options.Conn.Logger, else Options.Sentinel.Logger; nil: no log
	life    context.Context // ends at Close
	wg      sync.WaitGroup  // links, queries and refreshes

	// onSwitch, when set (by tests), is called after a switch has closed
	// the Conns to the old master.
	onSwitch atomic.Pointer[func(old, new string)]
	// onReplicas, when set, is called when the replicas may have changed.
	onReplicas atomic.Pointer[func()]

	mu        sync.Mutex
	master    string        // the last master known; "" until the first answer
	trusted   bool          // master came from a sentinel and nothing failed on it since
	switched  chan struct{} // closed and replaced each time master changes
	conns     map[*conn.Conn]string
	links     map[string]*link // by sentinel address, in no order
	order     []string         // sentinel addresses, the configured ones first
	closing   bool
	resolving bool // a reresolve is under way
}

func newDirectory(life context.Context, opts *Options) *directory {
	d := &directory{
		name:     opts.MasterName,
		sopts:    opts.sentinelOptions(),
		life:     life,
		switched: make(chan struct{}),
		conns:    make(map[*conn.Conn]string),
		links:    make(map[string]*link),
	}
	d.timeout = d.sopts.DialTimeout
	if d.logger = opts.Conn.Logger; d.logger == nil {
		d.logger = opts.Sentinel.Logger
	}
	return d
}

// errNotMaster is why a server that calls itself a replica was refused.
var errNotMaster = errors.New("sentinel: server is not a master")

// errMovedOn: the sentinels named another master while a dial was under way.
var errMovedOn = errors.New("sentinel: the sentinels named another master meanwhile")

// dialMaster is the Client's conn.DialFunc: it dials the master the
// sentinels name, checks with ROLE that it is one, and keeps the Conn so a
// switch can close it. When the master can't be reached or calls itself a
// replica, it asks the sentinels again, with short pauses that end as soon
// as a switch is announced, until ctx ends. A refusal of the handshake (a
// wrong password) by the master, or by every sentinel, is returned at once.
func (d *directory) dialMaster(ctx context.Context, opts *conn.Options) (*conn.Conn, error) {
	var lastErr error // the latest failure not caused by ctx ending: it says why
	var switched <-chan struct{}
	fail := func(err error) (*conn.Conn, error) {
		if lastErr == nil {
			lastErr = err
		}
		return nil, fmt.Errorf("sentinel: no master for %q: %w (last: %w)", d.name, ctx.Err(), lastErr)
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := pause(ctx, attempt, switched); err != nil {
				return fail(err)
			}
		}
		addr, sw, err := d.masterAddr(ctx)
		switched = sw
		var refused *refusedError
		switch {
		case errors.As(err, &refused):
			return nil, err
		case err != nil && ctx.Err() != nil:
			return fail(err)
		case err != nil:
			lastErr = err
			continue
		}
		cn, err := conn.Dial(ctx, addr, opts)
		if err == nil {
			if err = checkRole(ctx, cn); err == nil && !d.track(cn, addr) {
				err = errMovedOn
			}
			if err == nil {
				return cn, nil
			}
			_ = cn.Close()
		}
		d.distrust(addr)
		err = fmt.Errorf("sentinel: master %s: %w", addr, err)
		var re *resp.Error
		switch {
		case errors.As(err, &re) && re.Code != "LOADING":
			return nil, err
		case ctx.Err() != nil:
			return fail(err)
		}
		lastErr = err
	}
}

// dialBackoff spaces the attempts to find and dial the master: 10 ms
// doubling up to a quarter second, jittered.
var dialBackoff = backoff.Policy{Min: 10 * time.Millisecond, Max: 250 * time.Millisecond}

// pause waits before dial attempt n (n ≥ 1), as dialBackoff says; a switch
// ends it at once.
func pause(ctx context.Context, attempt int, switched <-chan struct{}) error {
	t := time.NewTimer(dialBackoff.Delay(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-switched:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkRole asks cn's server for its ROLE and refuses anything but a
// master.
func checkRole(ctx context.Context, cn *conn.Conn) error {
	v, err := cn.Do(ctx, "ROLE")
	if err != nil {
		return err
	}
	if e := v.Elems(); len(e) > 0 {
		if role, _ := e[0].Text(); role == "master" {
			return nil
		} else if role != "" {
			return fmt.Errorf("%w: ROLE says %s", errNotMaster, role)
		}
	}
	return fmt.Errorf("sentinel: malformed ROLE reply: %w", resp.ErrProtocol)
}

// masterAddr returns the master to dial and the channel that closes at the
// next switch. While the master is trusted that is the one known; otherwise
// the sentinels are asked, and if none answers, the last master known is
// tried again (ROLE tells whether it still is one).
func (d *directory) masterAddr(ctx context.Context) (string, <-chan struct{}, error) {
	d.mu.Lock()
	addr, trusted, switched := d.master, d.trusted, d.switched
	d.mu.Unlock()
	if trusted {
		return addr, switched, nil
	}
	asked, err := d.ask(ctx)
	if err != nil {
		if addr != "" {
			return addr, switched, nil
		}
		return "", switched, err
	}
	d.switchTo(asked)
	d.mu.Lock()
	switched = d.switched
	d.mu.Unlock()
	return asked, switched, nil
}

// track keeps cn, a Conn to addr, for closing at a switch. It refuses when
// addr is no longer the master, because a switch came while cn was dialled.
func (d *directory) track(cn *conn.Conn, addr string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if addr != d.master || d.closing {
		return false
	}
	for c := range d.conns {
		if c.State() == conn.StateClosed {
			delete(d.conns, c)
		}
	}
	d.conns[cn] = addr
	return true
}

// distrust makes the next dial ask the sentinels, unless the master has
// changed from addr already.
func (d *directory) distrust(addr string) {
	d.mu.Lock()
	if d.master == addr {
		d.trusted = false
	}
	d.mu.Unlock()
}

// switchTo makes addr the master. If that is a change, it closes every Conn
// to another server, before it returns: calls not yet written on them move
// to the new master, and nothing is written to the old one from then on. A
// switch from a master known before is logged at Warn.
func (d *directory) switchTo(addr string) {
	d.mu.Lock()
	old := d.master
	d.trusted = true
	if addr == old {
		d.mu.Unlock()
		return
	}
	d.master = addr
	close(d.switched)
	d.switched = make(chan struct{})
	var stale []*conn.Conn
	for cn, at := range d.conns {
		if at != addr {
			stale = append(stale, cn)
			delete(d.conns, cn)
		}
	}
	d.mu.Unlock()
	for _, cn := range stale {
		_ = cn.Close()
	}
	if d.logger != nil {
		if old != "" {
			d.logger.Warn("sentinel: master switched", "master_name", d.name, "old_master", old,
				"new_master", addr, "conns_closed", len(stale))
		} else {
			d.logger.Debug("sentinel: master found", "master_name", d.name, "master", addr)
		}
	}
	if fn := d.onSwitch.Load(); fn != nil && old != "" {
		(*fn)(old, addr)
	}
	d.replicasChanged()
}

// currentMaster is the last master known.
func (d *directory) currentMaster() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.master
}

// ask asks every known sentinel at once for the master's address and
// returns the first answer.
func (d *directory) ask(ctx context.Context) (string, error) {
	v, err := d.askAll(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", d.name)
	if err != nil {
		return "", err
	}
	return parseAddr(v)
}

// askAll sends one command to every known sentinel at once and returns the
// first reply that is not an error (or null), cancelling the others.
func (d *directory) askAll(ctx context.Context, args ...string) (resp.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	addrs := d.sentinels()
	type answer struct {
		v   resp.Value
		err error
	}
	answers := make(chan answer, len(addrs))
	for _, addr := range addrs {
		ok := d.spawn(func() {
			v, err := d.sentinelDo(ctx, addr, args...)
			if err == nil && v.IsNull() {
				err = fmt.Errorf("sentinel: %s does not know master %q", addr, d.name)
			}
			answers <- answer{v, err}
		})
		if !ok {
			answers <- answer{err: errClosed}
		}
	}
	errs := make([]error, 0, len(addrs))
	refused := true
	for range addrs {
		a := <-answers
		if a.err == nil {
			return a.v, nil
		}
		errs = append(errs, a.err)
		var re *resp.Error
		refused = refused && errors.As(a.err, &re)
	}
	err := fmt.Errorf("sentinel: no sentinel answered %s for %q: %w", args[1], d.name, errors.Join(errs...))
	if d.logger != nil && d.life.Err() == nil {
		d.logger.Warn("sentinel: no sentinel answered", "master_name", d.name, "question", args[1],
			"sentinels", len(addrs), "err", err)
	}
	if refused {
		return resp.Value{}, &refusedError{err}
	}
	return resp.Value{}, err
}

// refusedError is askAll's error when every sentinel refused the question
// (or the handshake: a wrong password) with an error reply: asking again
// will not help.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// sentinelDo runs one command on the sentinel at addr: on its link's
// connection when that is up, else on a connection of its own.
func (d *directory) sentinelDo(ctx context.Context, addr string, args ...string) (resp.Value, error) {
	if cn := d.linkConn(addr); cn != nil {
		v, err := cn.Do(ctx, args...)
		if err == nil {
			return v, v.Err()
		}
		var re *resp.Error
		if errors.As(err, &re) || ctx.Err() != nil {
			return v, fmt.Errorf("sentinel: %s: %w", addr, err)
		}
	}
	cn, err := conn.Dial(ctx, addr, &d.sopts)
	if err != nil {
		return resp.Value{}, fmt.Errorf("sentinel: %w", err)
	}
	defer cn.Close()
	v, err := cn.Do(ctx, args...)
	if err != nil {
		return v, fmt.Errorf("sentinel: %s: %w", addr, err)
	}
	return v, nil
}

// parseAddr reads a reply of GET-MASTER-ADDR-BY-NAME: [host, port].
func parseAddr(v resp.Value) (string, error) {
	e := v.Elems()
	if len(e) != 2 {
		return "", fmt.Errorf("sentinel: master address of %d elements: %w", len(e), resp.ErrProtocol)
	}
	host, err1 := e[0].Text()
	port, err2 := e[1].Text()
	if err := errors.Join(err1, err2); err != nil || host == "" || port == "" {
		return "", fmt.Errorf("sentinel: malformed master address: %w", resp.ErrProtocol)
	}
	return net.JoinHostPort(host, port), nil
}

// errClosed is what a question gets after Close.
var errClosed = fmt.Errorf("sentinel: client closed: %w", conn.ErrClosed)

// spawn runs fn on a goroutine that close waits for, unless close has
// begun: then it reports false and fn does not run.
func (d *directory) spawn(fn func()) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return false
	}
	d.wg.Go(fn)
	return true
}

// close waits for the directory's goroutines, which end with life, and
// keeps no new link or Conn from then on.
func (d *directory) close() {
	d.mu.Lock()
	d.closing = true
	d.mu.Unlock()
	d.wg.Wait()
}

// reresolve asks the sentinels for the master in the background, after a
// sign that the one known is not one any more; one question at a time.
func (d *directory) reresolve() {
	d.mu.Lock()
	if d.resolving {
		d.mu.Unlock()
		return
	}
	d.resolving = true
	d.trusted = false
	d.mu.Unlock()
	ok := d.spawn(func() {
		if addr, err := d.ask(d.life); err == nil {
			d.switchTo(addr)
		}
		d.mu.Lock()
		d.resolving = false
		d.mu.Unlock()
	})
	if !ok {
		d.mu.Lock()
		d.resolving = false
		d.mu.Unlock()
	}
}

// closeConns closes the Conns to the master still kept (those DialMaster
// handed out).
func (d *directory) closeConns() {
	d.mu.Lock()
	conns := d.conns
	d.conns = make(map[*conn.Conn]string)
	d.mu.Unlock()
	for cn := range conns {
		_ = cn.Close()
	}
}

// replicasChanged tells replica reads, if any, that the replicas may have
// changed.
func (d *directory) replicasChanged() {
	if fn := d.onReplicas.Load(); fn != nil {
		(*fn)()
	}
}
