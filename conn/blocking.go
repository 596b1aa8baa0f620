package conn

import (
	"context"
	"strings"
	"sync"
)

// isBlocking reports whether a command can hold its connection's reply back
// for a long time, by the server's design: BLPOP and its family, WAIT, and
// XREAD or XREADGROUP with BLOCK. Such commands never run on a Client's
// shared Conn, where they would stall every command queued behind them.
// It does not allocate.
func isBlocking(args []string) bool {
	if len(args) == 0 {
		return false
	}
	name := args[0]
	switch len(name) {
	case 4:
		return strings.EqualFold(name, "WAIT")
	case 5:
		return strings.EqualFold(name, "BLPOP") || strings.EqualFold(name, "BRPOP") ||
			strings.EqualFold(name, "XREAD") && hasBlockOption(args[1:])
	case 6:
		return strings.EqualFold(name, "BLMOVE") || strings.EqualFold(name, "BLMPOP") ||
			strings.EqualFold(name, "BZMPOP")
	case 7:
		return strings.EqualFold(name, "WAITAOF")
	case 8:
		return strings.EqualFold(name, "BZPOPMIN") || strings.EqualFold(name, "BZPOPMAX")
	case 10:
		return strings.EqualFold(name, "BRPOPLPUSH") ||
			strings.EqualFold(name, "XREADGROUP") && hasBlockOption(args[1:])
	}
	return false
}

// hasBlockOption reports whether the options of XREAD or XREADGROUP, which
// all come before STREAMS, include BLOCK.
func hasBlockOption(opts []string) bool {
	for _, o := range opts {
		switch {
		case strings.EqualFold(o, "BLOCK"):
			return true
		case strings.EqualFold(o, "STREAMS"):
			return false
		}
	}
	return false
}

// defaultMaxIdle is how many dedicated Conns a Client keeps for reuse.
const defaultMaxIdle = 4

// defaultMaxDedicated is Options.MaxDedicated when 0.
const defaultMaxDedicated = 64

// connPool holds a Client's dedicated Conns: those lent to blocking commands
// and to Dedicated. It dials on demand, keeps at most maxIdle of them idle,
// and has at most maxOpen open (idle, on loan or being dialled): get waits
// for one to come back beyond that. It knows the ones on loan too, so that
// Close can end a BLPOP that waits forever.
type connPool struct {
	dial    func(ctx context.Context) (*Conn, error)
	maxIdle int
	maxOpen int

	mu     sync.Mutex
	idle   []*Conn
	onLoan map[*Conn]struct{}
	open   int           // idle, on loan, or being dialled
	freed  chan struct{} // closed when a place may have come free; nil until someone waits
	closed bool
}

func newConnPool(dial func(ctx context.Context) (*Conn, error), maxIdle int) *connPool {
	return &connPool{dial: dial, maxIdle: maxIdle, maxOpen: defaultMaxDedicated, onLoan: make(map[*Conn]struct{})}
}

// setMaxOpen sets the bound on open Conns (Options.MaxDedicated), before the
// pool is used; max ≤ 0 keeps the default.
func (p *connPool) setMaxOpen(max int) {
	if max > 0 {
		p.maxOpen = max
	}
}

// get lends an open Conn: an idle one, or a new one when fewer than maxOpen
// are open; otherwise it waits, within ctx, for one to come back.
func (p *connPool) get(ctx context.Context) (*Conn, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errClientClosed
		}
		if n := len(p.idle); n > 0 {
			cn := p.idle[n-1]
			p.idle[n-1] = nil
			p.idle = p.idle[:n-1]
			if cn.State() == StateOpen {
				p.onLoan[cn] = struct{}{}
				p.mu.Unlock()
				return cn, nil
			}
			p.open--
			p.mu.Unlock()
			_ = cn.Close() // died while idle: the server went away
			continue
		}
		if p.open < p.maxOpen {
			p.open++
			p.mu.Unlock()
			break
		}
		if p.freed == nil {
			p.freed = make(chan struct{})
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	cn, err := p.dial(ctx)
	if err != nil {
		p.mu.Lock()
		p.open--
		p.wake()
		p.mu.Unlock()
		return nil, err
	}
	// What OnConnect set up (READONLY, say) belongs to every Conn of the
	// Client: it does not make this one unfit for the pool.
	cn.carriesState.Store(false)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		p.open--
		_ = cn.Close()
		return nil, errClientClosed
	}
	p.onLoan[cn] = struct{}{}
	return cn, nil
}

// wake tells the callers waiting in get that a place may have come free,
// with p.mu held.
func (p *connPool) wake() {
	if p.freed != nil {
		close(p.freed)
		p.freed = nil
	}
}

// put takes back a Conn that get lent. A Conn that is not reusable (reuse
// false, not open, state left on it, or no room) is closed.
func (p *connPool) put(cn *Conn, reuse bool) {
	p.mu.Lock()
	delete(p.onLoan, cn)
	if reuse && !p.closed && len(p.idle) < p.maxIdle && cn.State() == StateOpen && !cn.carriesState.Load() {
		p.idle = append(p.idle, cn)
		cn = nil
	} else {
		p.open--
	}
	p.wake()
	p.mu.Unlock()
	if cn != nil {
		_ = cn.Close()
	}
}

// close closes every Conn of the pool, idle or on loan; put closes those
// that come back later. Callers waiting in get give up.
func (p *connPool) close() {
	p.mu.Lock()
	p.closed = true
	p.wake()
	conns := p.idle
	p.idle = nil
	for cn := range p.onLoan {
		conns = append(conns, cn)
	}
	p.mu.Unlock()
	for _, cn := range conns {
		_ = cn.Close()
	}
}
