package conn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/respwire/respwire/internal/backoff"
	"github.com/respwire/respwire/resp"
)

// Liveness defaults (see Options.SilenceTimeout and Options.IdlePing).
const (
	defaultSilenceTimeout = 200 * time.Millisecond
	defaultIdlePing       = time.Second
	// trimTick is how often the timer ticks on a Conn with both off,
	// only to trim its write buffers once it idles.
	trimTick = time.Second
)

// ErrSilent is wrapped by the error of every call pending on a Conn that
// closed itself because it went silent: it owed replies and read nothing
// for Options.SilenceTimeout, and a fresh connection to its server got an
// answer meanwhile. Such errors wrap ErrClosed too.
var ErrSilent = errors.New("conn: connection went silent")

// silentError says why a Conn closed itself as silent. It wraps ErrSilent,
// and the dial error when the server could not be dialled.
type silentError struct {
	detail  string
	dialErr error
}

func (e *silentError) Error() string { return "the connection went silent: " + e.detail }

func (e *silentError) Unwrap() []error {
	if e.dialErr == nil {
		return []error{ErrSilent}
	}
	return []error{ErrSilent, e.dialErr}
}

// liveness watches a Conn from a timer that ticks every tick: it finds a
// connection that owes replies and has gone silent, sends a PING on one
// that has been idle (see the package documentation, Liveness), and trims
// the write buffers of one that idles.
type liveness struct {
	silence time.Duration // 0: no silence detection
	idle    time.Duration // 0: no idle PING
	// The timer ticks every owedTick while replies are owed, every
	// idleTick otherwise: often enough to find silence soon after
	// SilenceTimeout, seldom while nothing is in flight.
	owedTick, idleTick time.Duration
	// probe asks the server, on a fresh connection, whether it answers
	// now; nil for a Conn made by NewConn, which has no way to dial one.
	probe        func(ctx context.Context) probeResult
	probeTimeout time.Duration
	probeBackoff backoff.Policy

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	running sync.WaitGroup // a tick in progress

	// Only the tick touches these.
	activity  uint64    // socket reads and writes, as last seen
	owed      bool      // whether replies were owed, as last seen
	since     time.Time // when activity or owed last changed
	probes    int       // inconclusive probes since then
	nextProbe time.Time
}

// startLiveness arms c's liveness timer as opts ask; probe may be nil.
func (c *Conn) startLiveness(opts *Options, probe func(context.Context) probeResult) {
	l := &c.live
	l.silence = livenessOption(opts.SilenceTimeout, defaultSilenceTimeout)
	l.idle = livenessOption(opts.IdlePing, defaultIdlePing)
	if probe == nil {
		l.silence = 0
	}
	switch {
	case l.silence > 0:
		l.owedTick, l.idleTick = l.silence/4, l.silence
		if l.idle > 0 {
			l.idleTick = min(l.idleTick, l.idle/2)
		}
	case l.idle > 0:
		l.owedTick, l.idleTick = l.idle/2, l.idle/2
	default:
		// Neither: the timer still ticks, to trim an idle Conn's write
		// buffers.
		l.owedTick, l.idleTick = trimTick, trimTick
	}
	l.probe = probe
	l.probeTimeout = 4 * l.silence
	l.probeBackoff = backoff.Policy{Min: l.silence, Max: 8 * l.silence}
	l.since = time.Now()
	l.mu.Lock()
	if !l.stopped { // not closed already
		l.timer = time.AfterFunc(l.idleTick, c.checkLiveness)
	}
	l.mu.Unlock()
}

// livenessOption is an Options duration: 0 means def, negative means off
// (0 here).
func livenessOption(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// stopLiveness stops the timer and waits for a tick in progress (which a
// closed Conn's life context cuts short).
func (c *Conn) stopLiveness() {
	l := &c.live
	l.mu.Lock()
	l.stopped = true
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	l.running.Wait()
}

// checkLiveness is one tick.
func (c *Conn) checkLiveness() {
	l := &c.live
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.running.Add(1)
	l.mu.Unlock()
	defer func() {
		next := l.idleTick
		if l.owed {
			next = l.owedTick
		}
		l.mu.Lock()
		if !l.stopped {
			l.timer.Reset(next)
		}
		l.mu.Unlock()
		l.running.Done()
	}()

	now := time.Now()
	activity := c.activity()
	owed := c.owesReplies()
	// A reader held by OnPush or by a DoStream's writer reads nothing
	// because the application is slow, not the connection: quiet starts
	// anew, as after activity.
	if c.inPush.Load() || c.inStream.Load() || activity != l.activity || owed != l.owed {
		l.activity, l.owed, l.since = activity, owed, now
		l.probes, l.nextProbe = 0, time.Time{}
		return
	}
	if !owed {
		// Nothing read for a whole tick, nothing owed: the Conn idles.
		c.trimWriteBuffers()
	}
	quiet := now.Sub(l.since)
	switch {
	case owed && l.silence > 0 && quiet >= l.silence && !now.Before(l.nextProbe):
		c.probeSilence(activity, quiet)
	case !owed && l.idle > 0 && quiet >= l.idle:
		c.idlePing()
		l.since = now
	}
}

// activity counts the socket reads that returned bytes and the progress of
// big writes: while a Conn owes replies, a count that does not move means
// nothing arrives, and no command too big to have been taken at once by
// the socket is still going out. Whole writes do not count: a silent link
// takes small writes into the kernel's buffers as readily as a live one.
func (c *Conn) activity() uint64 { return c.sock.n.Load() + c.writeProgress.Load() }

// owesReplies reports whether a written command waits for its reply, other
// than a blocking one (BLPOP and the like wait by design).
func (c *Conn) owesReplies() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.pending.oldest()
	return r != nil && !r.blocking
}

// probeSilence asks the server, on a fresh connection, whether it answers
// now. A server that answers a PING sent after every reply owed here was
// due, while this connection still reads nothing, has dropped it (or the
// network has): c closes. A server that does not answer either, or answers
// BUSY or LOADING, is slow, not lost: c waits and asks again later, less
// and less often; so it does when the kernel holds bytes for c that its
// reader has not read yet (the process is slow, not the link). A server
// that cannot be dialled at all is unreachable: c closes, since no reply
// will come.
func (c *Conn) probeSilence(activity uint64, quiet time.Duration) {
	l := &c.live
	ctx, cancel := context.WithTimeout(c.life, l.probeTimeout)
	res := l.probe(ctx)
	cancel()
	switch {
	case res.dialErr != nil:
		c.closeWith(connectionLost(&silentError{
			detail: fmt.Sprintf("nothing read for %v while replies were owed, and %s cannot be dialled: %v",
				quiet.Round(time.Millisecond), c.addr, res.dialErr),
			dialErr: res.dialErr,
		}))
		return
	case res.answered && !res.busy:
		// A reply the server wrote before the probe's may still be on
		// its way, or this Conn's reader may not have run for a while
		// on a loaded machine: give it twice the probe's round trip,
		// and no less than half of SilenceTimeout.
		grace := min(max(2*res.rtt+10*time.Millisecond, l.silence/2), l.silence)
		t := time.NewTimer(grace)
		select {
		case <-t.C:
		case <-c.life.Done():
			t.Stop()
			return
		}
		if c.activity() != activity || !c.owesReplies() {
			return
		}
		if n, ok := unreadBytes(c.nc); !ok || n == 0 {
			c.closeWith(connectionLost(&silentError{detail: fmt.Sprintf(
				"nothing read for %v while replies were owed, while a fresh connection to %s was answered in %v",
				(quiet + grace).Round(time.Millisecond), c.addr, res.rtt.Round(time.Microsecond))}))
			return
		}
		// Bytes have arrived and wait in the kernel: the link
		// delivers, and this process reads them late (a starved
		// reader on a loaded machine). Ask again later, as after a
		// slow server.
	}
	l.probes++
	l.nextProbe = time.Now().Add(l.probeBackoff.Delay(l.probes))
}

// idlePing writes a PING on a Conn with nothing in flight, and lets the
// reader discard its reply: a connection that died while idle then owes a
// reply, and silence detection finds it out before a caller's command
// does. It sends nothing on a Conn whose state would take the PING for
// something else: inside a MULTI, or after CLIENT REPLY, MONITOR or a
// replication command (see Conn.noPing).
func (c *Conn) idlePing() {
	r := c.getRequest(shapeOne)
	r.state.Store(requestAbandoned) // nobody waits: the answer recycles it
	c.mu.Lock()
	if c.err != nil || c.noPing || c.txOpen || c.pending.len() > 0 {
		c.mu.Unlock()
		recycle(r)
		return
	}
	r.start = len(c.wbuf)
	c.wbuf = resp.AppendCommand(c.wbuf, "PING")
	c.unlock(r)
	c.needReader()
}
