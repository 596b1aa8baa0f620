package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/respwire/respwire/resp"
)

// This file is the liveness check of a link. A subscribed connection owes no
// reply while idle, so a silent one (a NAT that forgot the flow, a
// partition) would never be noticed by reading alone.
//
// Every PingInterval the pinger sends the link a PING. An answer proves the
// link live up to when the PING was sent: every message published before
// then has been read. If it is not answered within PingTimeout, nothing was
// read on the link meanwhile and its reader is not held up by a full
// Messages() (the answer would then be queued behind messages, unread), the
// pinger asks the server on a fresh connection. A server that answers a
// fresh PING while the link's older one is still unanswered has lost the
// link, or the network has: the pinger closes it, and the watcher hands its
// subscriptions to the repair worker, which reports the gap. A server that
// is slow for everyone (DEBUG SLEEP) answers neither, and keeps the link.

// pinger checks l's connection until it closes or the Subscriber does.
func (s *Subscriber) pinger(l *link) {
	defer s.wg.Done()
	tick := time.NewTicker(s.options.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-l.conn.Done():
			return
		case <-s.done:
			return
		case <-tick.C:
		}
		if !s.ping(l) {
			return
		}
	}
}

// ping sends one PING on l and waits for its answer, probing the server on
// a fresh connection when it is late. It reports false once l's connection
// is closed (by ping itself, when it found it silent) or the Subscriber is.
func (s *Subscriber) ping(l *link) bool {
	ctx, cancel := context.WithCancel(s.life)
	defer cancel()
	sent := time.Now()
	read := l.frames.Load()
	answered := make(chan error, 1)
	go func() {
		answered <- answer(l.conn.Do(ctx, "PING"))
	}()
	timer := time.NewTimer(s.options.PingTimeout)
	defer timer.Stop()
	for {
		select {
		case err := <-answered:
			if err != nil {
				return false // the connection closed, or the Subscriber
			}
			l.live.mark(sent)
			return true
		case <-timer.C:
		}
		if now := l.frames.Load(); now != read || l.blocked.Load() {
			read = now // alive, just busy: keep waiting
			timer.Reset(s.options.PingTimeout)
			continue
		}
		if !s.probe(ctx, l.addr) {
			// The server can't be reached afresh either: slow, or down
			// (then the link's own read fails soon). Wait on.
			timer.Reset(s.options.PingTimeout)
			continue
		}
		select {
		case err := <-answered:
			if err != nil {
				return false
			}
			l.live.mark(sent)
			return true
		default:
		}
		if l.frames.Load() != read || l.blocked.Load() {
			read = l.frames.Load()
			timer.Reset(s.options.PingTimeout)
			continue
		}
		cause := fmt.Errorf("pubsub: connection to %s went silent: a PING unanswered for %v while a fresh connection's was answered",
			l.addr, time.Since(sent).Round(time.Millisecond))
		l.silent.Store(&cause)
		l.conn.Close()
		<-answered
		return false
	}
}

// probe reports whether the server at addr answers a PING on a fresh
// connection, within the dial timeout.
func (s *Subscriber) probe(ctx context.Context, addr string) bool {
	opts := s.opts
	timeout := opts.DialTimeout
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := s.dialConn(ctx, addr, &opts)
	if err != nil {
		return false
	}
	defer c.Close()
	return answer(c.Do(ctx, "PING")) == nil
}

// answer returns nil if the server answered a PING, even with an error
// reply (an ACL user may be denied PING, a loading server refuses it): an
// answer is all the check asks for. Otherwise it returns the error.
func answer(_ resp.Value, err error) error {
	var re *resp.Error
	if err == nil || errors.As(err, &re) {
		return nil
	}
	return err
}
