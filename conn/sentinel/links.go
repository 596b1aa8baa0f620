package sentinel

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/backoff"
	"github.com/respwire/respwire/resp"
)

// A link is the Client's connection to one sentinel. It is subscribed to
// the announcements the Client follows and also carries questions (RESP3
// allows commands on a subscribed connection). It is redialled with backoff
// while the Client lives.
type link struct {
	addr string
	conn atomic.Pointer[conn.Conn] // nil while down
}

// events are the sentinel channels a link subscribes to: the master's
// switch, and the changes that may change which replicas can serve reads.
var events = []string{"+switch-master", "+slave", "+sdown", "-sdown", "+odown", "-odown", "+convert-to-slave", "+reboot"}

// addSentinels starts a link to each address not linked yet, up to
// maxSentinels.
func (d *directory) addSentinels(addrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, addr := range addrs {
		if d.closing || len(d.order) >= maxSentinels {
			return
		}
		if _, ok := d.links[addr]; ok {
			continue
		}
		l := &link{addr: addr}
		d.links[addr] = l
		d.order = append(d.order, addr)
		d.wg.Go(func() { d.runLink(l) })
	}
}

// sentinels lists the known sentinels, the configured ones first.
func (d *directory) sentinels() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.order...)
}

// linkConn returns the open connection of the link to addr, or nil.
func (d *directory) linkConn(addr string) *conn.Conn {
	d.mu.Lock()
	l := d.links[addr]
	d.mu.Unlock()
	if l == nil {
		return nil
	}
	if cn := l.conn.Load(); cn != nil && cn.State() == conn.StateOpen {
		return cn
	}
	return nil
}

// runLink keeps l connected until life ends. A sentinel that can't be
// reached is logged at Warn once, when its link's first attempt fails, and
// at Info when it is reached again.
func (d *directory) runLink(l *link) {
	unreachable := false
	for attempt := 0; ; attempt++ {
		if attempt > 0 && linkBackoff.Wait(d.life, attempt) != nil {
			return
		}
		cn, err := d.connectLink(l.addr)
		if err != nil {
			if d.life.Err() != nil {
				return
			}
			if !unreachable && d.logger != nil {
				d.logger.Warn("sentinel: sentinel unreachable; retrying", "sentinel", l.addr, "err", err)
			}
			unreachable = true
			continue
		}
		if unreachable && d.logger != nil {
			d.logger.Info("sentinel: sentinel reached again", "sentinel", l.addr)
		}
		unreachable = false
		attempt = 0
		l.conn.Store(cn)
		select {
		case <-cn.Done():
		case <-d.life.Done():
		}
		l.conn.Store(nil)
		_ = cn.Close()
		if d.life.Err() != nil {
			return
		}
	}
}

// connectLink dials a sentinel, subscribes to events and learns the other
// sentinels from it.
func (d *directory) connectLink(addr string) (*conn.Conn, error) {
	ctx, cancel := context.WithTimeout(d.life, d.timeout)
	defer cancel()
	opts := d.sopts
	opts.OnPush = d.onEvent
	cn, err := conn.Dial(ctx, addr, &opts)
	if err != nil {
		return nil, err
	}
	if err := cn.Send(ctx, append([]string{"SUBSCRIBE"}, events...)...); err != nil {
		_ = cn.Close()
		return nil, err
	}
	if v, err := cn.Do(ctx, "SENTINEL", "SENTINELS", d.name); err == nil {
		d.addSentinels(parseSentinels(v)...)
	}
	return cn, nil
}

// onEvent handles a push frame of a link, on the link's reader goroutine:
// a switch of our master moves the Client at once (closing the Conns to the
// old master does not wait on this link); other events about our master's
// replicas ask for a fresh list of them.
func (d *directory) onEvent(v resp.Value) {
	e := v.Elems()
	if len(e) != 3 {
		return
	}
	if kind, _ := e[0].Text(); kind != "message" {
		return
	}
	channel, _ := e[1].Text()
	payload, _ := e[2].Text()
	fields := strings.Fields(payload)
	switch channel {
	case "+switch-master":
		// <name> <old ip> <old port> <new ip> <new port>
		if len(fields) == 5 && fields[0] == d.name {
			d.switchTo(net.JoinHostPort(fields[3], fields[4]))
		}
	default:
		// <type> <name> <ip> <port> @ <master name> <master ip> <master port>
		if len(fields) >= 8 && fields[0] == "slave" && fields[5] == d.name {
			d.replicasChanged()
		}
	}
}

// parseSentinels reads the addresses out of a SENTINEL SENTINELS reply.
func parseSentinels(v resp.Value) []string {
	var addrs []string
	for _, s := range v.Elems() {
		f := fieldMap(s)
		if f["ip"] != "" && f["port"] != "" {
			addrs = append(addrs, net.JoinHostPort(f["ip"], f["port"]))
		}
	}
	return addrs
}

// fieldMap turns a sentinel's description of an instance, alternating
// names and values (a RESP3 map, or an array), into a map.
func fieldMap(v resp.Value) map[string]string {
	e := v.Elems()
	m := make(map[string]string, len(e)/2)
	for i := 0; i+1 < len(e); i += 2 {
		k, _ := e[i].Text()
		val, _ := e[i+1].Text()
		m[k] = val
	}
	return m
}

// linkBackoff spaces the reconnect attempts of a link: 50 ms doubling up
// to 2 s, jittered.
var linkBackoff = backoff.Policy{Min: 50 * time.Millisecond, Max: 2 * time.Second}
