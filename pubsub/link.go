package pubsub

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// A link is one connection of the Subscriber: the one for channels and
// patterns, or the one to a node for that node's shard channels.
//
// Its membership is decided under Subscriber.mu and nowhere else. A link is
// attached (reachable from Subscriber.global or Subscriber.nodes) until it is
// detached, once, under that mutex: when a shard link loses its last member,
// when its connection is lost, when its dial fails, or at Close. A detached
// link never gains a member again; a subscribe that needs one for the same
// node creates a fresh link. Whoever detaches a link also takes the job of
// closing its connection (closeTaken), unless it is still being dialled, in
// which case the dialler closes it when the dial returns. Either way exactly
// one goroutine closes each connection.
type link struct {
	addr  string
	shard bool // holds shard channels, and is closed when the last one leaves

	ready chan struct{} // closed once the dial has finished
	conn  *conn.Conn    // valid after ready; nil if the dial failed
	err   error         // the dial's error ("connect to …"), valid after ready

	dying chan struct{} // closed on detach: messages of unwanted subscriptions are dropped, not waited on
	live  liveness      // when it was last known live
	// frames counts the push frames read; blocked is set while the reader
	// waits for room in Messages(). Both tell the pinger the link is alive.
	frames  atomic.Uint64
	blocked atomic.Bool
	// silent is set, before the link's connection is closed, by the check
	// that found the connection silent: the cause of the gap.
	silent atomic.Pointer[error]

	// Guarded by Subscriber.mu.
	members    map[subKey]struct{} // the subscriptions routed here
	detached   bool
	closeTaken bool // some goroutine has taken the job of closing conn
}

func newLink(addr string, shard bool) *link {
	return &link{
		addr:    addr,
		shard:   shard,
		ready:   make(chan struct{}),
		dying:   make(chan struct{}),
		members: make(map[subKey]struct{}),
	}
}

// wait returns the link's connection once its dial has finished, or an
// error wrapping ctx's if ctx ends first.
func (l *link) wait(ctx context.Context) (*conn.Conn, error) {
	select {
	case <-l.ready:
		return l.conn, l.err
	case <-ctx.Done():
		return nil, fmt.Errorf("connect to %s: %w", l.addr, ctx.Err())
	}
}

// defaultDialTimeout bounds a link's dial and handshake when
// conn.Options.DialTimeout is 0.
const defaultDialTimeout = 10 * time.Second

// startDialLocked dials l on a goroutine of its own, with the Subscriber's
// lifetime rather than any caller's context: a link is shared, so the call
// that happened to create it must not cut its dial short for the others.
// Each caller waits for l.ready within its own context. The goroutine that
// created l calls it, once, with s.mu held and s not closing (so Close's
// wait counts the dial).
func (s *Subscriber) startDialLocked(l *link) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.dial(l)
	}()
}

// dial connects l, within the dial timeout, until Close.
func (s *Subscriber) dial(l *link) {
	opts := s.opts
	opts.OnPush = func(v resp.Value) { s.onPush(l, v) }
	opts.OnPubSubMessage = func(m conn.PubSubMessage) { s.onMessage(l, m) }
	timeout := opts.DialTimeout
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(s.life, timeout) // Close cuts a dial short
	c, err := s.dialConn(ctx, l.addr, &opts)
	cancel()
	if err != nil {
		err = fmt.Errorf("connect to %s: %w", l.addr, err)
	}

	s.mu.Lock()
	l.conn, l.err = c, err
	var closeNow *conn.Conn
	switch {
	case err != nil:
		// Every member belongs to a call still waiting on ready, which
		// settles it; the link must not be found by anyone else.
		s.detachLocked(l)
		s.orphanLocked(l, keysOf(l.members), false)
		if s.global == nil && !l.shard {
			s.globalTurn++ // try another node next time
		}
	case l.detached:
		// Emptied or Close while dialling: the job of closing fell to us.
		if !l.closeTaken {
			l.closeTaken = true
			closeNow = c
		}
	default:
		l.live.mark(time.Now())
		s.wg.Add(1)
		go s.watch(l)
		if s.options.PingInterval > 0 {
			s.wg.Add(1)
			go s.pinger(l)
		}
	}
	close(l.ready)
	s.mu.Unlock()
	if closeNow != nil {
		closeNow.Close()
	}
}

// watch waits for l's connection to end. If nobody meant to close it, the
// connection was lost: its subscriptions are handed to the repair worker,
// which subscribes them again on a fresh connection.
func (s *Subscriber) watch(l *link) {
	defer s.wg.Done()
	<-l.conn.Done()
	s.mu.Lock()
	if l.closeTaken {
		s.mu.Unlock()
		return // closed on purpose
	}
	l.closeTaken = true
	s.detachLocked(l)
	if !l.shard {
		s.globalTurn++
	}
	cause := fmt.Errorf("pubsub: connection to %s lost", l.addr)
	if err := l.conn.Err(); err != nil {
		cause = fmt.Errorf("pubsub: connection to %s lost: %w", l.addr, err)
	}
	if silent := l.silent.Load(); silent != nil {
		cause = *silent
	}
	keys := keysOf(l.members)
	s.lostLocked(keys, l.live.since(), cause)
	s.orphanLocked(l, keys, true)
	s.mu.Unlock()
	s.logLost(l.addr, len(keys), cause)
}

// onPush is Options.OnPush of every link's connection: it runs on the
// connection's reader goroutine. It delivers messages, blocking while
// Messages() is full (backpressure) but never past Close or past the link's
// detach, and reconciles confirmations with what the user wants.
func (s *Subscriber) onPush(l *link, v resp.Value) {
	l.frames.Add(1)
	p := decodePush(v)
	switch p.kind {
	case pushMessage:
		s.deliver(l, p.message)
	case pushSubscribed:
		s.mu.Lock()
		s.confirmedLocked(l, p.sub)
		s.mu.Unlock()
	case pushUnsubscribe:
		if p.null {
			return
		}
		s.mu.Lock()
		s.droppedLocked(l, p.sub)
		s.mu.Unlock()
	}
}

// deliver hands m to the reader of Messages(), unless the user no longer
// wants the subscription it came by (an unsubscribe, or a subscribe that
// failed, is in force as soon as the call decided it, whatever the server
// still sends). Once l is detached, whoever closes its connection waits for
// this goroutine: a message whose subscription the user dropped is then
// discarded rather than waited on.
func (s *Subscriber) deliver(l *link, m Message) {
	if !s.wanted.has(subscriptionOf(m)) {
		return
	}
	s.handOver(l, m)
}

// handOver is deliver for a message whose subscription was just found
// wanted.
func (s *Subscriber) handOver(l *link, m Message) {
	s.delivery.RLock()
	defer s.delivery.RUnlock()
	if s.messagesClosed {
		return
	}
	select {
	case s.messages <- m:
		return
	default:
	}
	l.blocked.Store(true) // the pinger must not take the wait for silence
	defer l.blocked.Store(false)
	select {
	case s.messages <- m:
		return
	case <-s.done:
		return
	case <-l.dying:
	}
	if !s.wanted.has(subscriptionOf(m)) {
		return
	}
	// Published before its channel moved to another link: still the user's.
	select {
	case s.messages <- m:
	case <-s.done:
	}
}

// subscriptionOf returns the subscription m came by.
func subscriptionOf(m Message) subKey {
	switch m.Kind {
	case KindPMessage:
		return subKey{space: spacePattern, name: m.Pattern}
	case KindSMessage:
		return subKey{space: spaceShard, name: m.Channel}
	}
	return subKey{space: spaceChannel, name: m.Channel}
}

// confirmedLocked handles a subscribe confirmation for key on l. Usually key
// is wanted on l and there is nothing to do. Otherwise the server holds a
// subscription the user does not want (a subscribe and an unsubscribe of the
// same name crossed on the wire): the repair worker unsubscribes it.
func (s *Subscriber) confirmedLocked(l *link, key subKey) {
	if l.detached {
		return
	}
	owner, wanted := s.want[key]
	_, orphaned := s.orphans[key]
	switch {
	case wanted && owner == l:
	case wanted && owner == nil && orphaned:
		// Waiting to be subscribed again, and it just was, here.
		delete(s.orphans, key)
		s.want[key] = l
		l.members[key] = struct{}{}
		s.liveLocked(l, []subKey{key}, time.Now())
	default:
		// Not wanted, wanted elsewhere, or held by a subscribe call that
		// gave up on l (it may still fail): undone unless the user wants
		// it on l by the time the repair worker looks.
		s.strays = append(s.strays, stray{link: l, key: key})
		s.wakeRepair()
	}
}

// droppedLocked handles an unsubscribe frame for key on l. If the user still
// wants key there, the server dropped it on its own (a slot migrated, a
// master was demoted) or an unsubscribe crossed a newer subscribe on the
// wire: the repair worker re-reads the topology and subscribes it again. If
// the user does not want it, this is the answer to their unsubscribe.
func (s *Subscriber) droppedLocked(l *link, key subKey) {
	if l.detached || s.want[key] != l {
		return
	}
	s.lostLocked([]subKey{key}, time.Now(), errDropped(l.addr, key))
	if c := s.orphanLocked(l, []subKey{key}, true); c != nil {
		// This is c's reader goroutine, and closing c waits for it.
		s.toRetire = append(s.toRetire, c)
	}
}
