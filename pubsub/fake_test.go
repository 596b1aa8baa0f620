package pubsub

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
	"github.com/stretchr/testify/require"
)

// fakeRedis is a small pub/sub server on fakeserver, over net.Pipe, for the
// orderings a real server will not produce on demand. It keeps each
// connection's subscriptions and logs every command; a hook sees each
// command first and may stall it, answer it or inject pushes.
type fakeRedis struct {
	t   testing.TB
	srv *fakeserver.Server

	mu    sync.Mutex
	conns map[int]*fakeserver.Conn
	subs  map[int]map[subKey]bool
	log   []string // "<conn id> <command and arguments>"
	hook  func(c *fakeserver.Conn, cmd []string) (handled bool)
	resp2 bool // refuse HELLO and answer as Redis does in RESP2

	// options are the subscriber's; by default its PINGs are off, so that
	// only the tests of liveness see them.
	options *Options
}

// newFakeRedis returns a fakeRedis over net.Pipe that speaks RESP proto (2
// or 3).
func newFakeRedis(t testing.TB, proto int) *fakeRedis {
	f := &fakeRedis{t: t, conns: make(map[int]*fakeserver.Conn), subs: make(map[int]map[subKey]bool), resp2: proto == 2, options: &Options{PingInterval: -1}}
	f.srv = fakeserver.New(t).Handle(f.handle)
	return f
}

// subscriber returns a single-server Subscriber whose connections go to f.
func (f *fakeRedis) subscriber(ctx context.Context) *Subscriber {
	s, err := newSubscriber(conn.Options{}, f.options)
	require.NoError(f.t, err)
	s.addr = "fake:6379"
	s.dialConn = func(ctx context.Context, _ string, opts *conn.Options) (*conn.Conn, error) {
		return conn.NewConn(ctx, f.srv.Pipe(), opts)
	}
	require.NoError(f.t, s.connect(ctx))
	f.t.Cleanup(func() { s.Close() })
	return s
}

func (f *fakeRedis) setHook(h func(c *fakeserver.Conn, cmd []string) bool) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

func (f *fakeRedis) handle(c *fakeserver.Conn, cmd []string) {
	f.mu.Lock()
	f.conns[c.ID()] = c
	f.log = append(f.log, fmt.Sprint(c.ID(), " ", strings.Join(cmd, " ")))
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(c, cmd) {
		return
	}
	if f.resp2 && strings.EqualFold(cmd[0], "HELLO") {
		f.reply(c, resp.NewSimpleError("ERR unknown command 'HELLO'"))
		return
	}
	if fakeserver.ServeHello(c, cmd) {
		return
	}
	f.serve(c, cmd)
}

// serve answers cmd as Redis 7 does, for the commands a Subscriber sends.
func (f *fakeRedis) serve(c *fakeserver.Conn, cmd []string) {
	name := strings.ToUpper(cmd[0])
	for sp, cmds := range spaceCommands {
		switch name {
		case cmds.subscribe:
			for _, ch := range cmd[1:] {
				n := f.set(c.ID(), subKey{space(sp), ch}, true)
				f.push(c, strings.ToLower(name), ch, n)
			}
			return
		case cmds.unsubscribe:
			chans := cmd[1:]
			if len(chans) == 0 {
				chans = f.subscribed(c.ID(), space(sp))
			}
			if len(chans) == 0 {
				f.reply(c, f.pushFrame(resp.NewBulkString(strings.ToLower(name)), resp.NewNull(), resp.NewInt(0)))
			}
			for _, ch := range chans {
				n := f.set(c.ID(), subKey{space(sp), ch}, false)
				f.push(c, strings.ToLower(name), ch, n)
			}
			return
		}
	}
	switch {
	case name == "PING" && f.resp2 && f.inSubscribeMode(c.ID()):
		msg := ""
		if len(cmd) == 2 {
			msg = cmd[1]
		}
		f.reply(c, resp.NewArray(resp.NewBulkString("pong"), resp.NewBulkString(msg)))
	case name == "PING" && len(cmd) == 2:
		f.reply(c, resp.NewBulkString(cmd[1]))
	case name == "PING":
		f.reply(c, resp.NewSimpleString("PONG"))
	default:
		f.reply(c, resp.NewSimpleError("ERR unknown command '"+cmd[0]+"'"))
	}
}

// set records key on connection id and returns the count Redis puts in the
// confirmation: the connection's shard channels for a shard key, its
// channels and patterns together for the others.
func (f *fakeRedis) set(id int, key subKey, on bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs[id] == nil {
		f.subs[id] = make(map[subKey]bool)
	}
	if on {
		f.subs[id][key] = true
	} else {
		delete(f.subs[id], key)
	}
	n := 0
	for k := range f.subs[id] {
		if (k.space == spaceShard) == (key.space == spaceShard) {
			n++
		}
	}
	return n
}

// inSubscribeMode reports whether connection id holds any subscription.
func (f *fakeRedis) inSubscribeMode(id int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs[id]) > 0
}

func (f *fakeRedis) subscribed(id int, sp space) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.subs[id] {
		if k.space == sp {
			out = append(out, k.name)
		}
	}
	slices.Sort(out)
	return out
}

// holders returns the open connections subscribed to key.
func (f *fakeRedis) holders(key subKey) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int
	for id, subs := range f.subs {
		if subs[key] && !isDone(f.conns[id].Done()) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// commands returns the logged commands that start with prefix, without their
// connection ids. The barrier conn.Conn.Send writes after each command
// (UNSUBSCRIBE of a channel of its own) is left out: the Subscriber did not
// send it.
func (f *fakeRedis) commands(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, line := range f.log {
		_, cmd, _ := strings.Cut(line, " ")
		if cmd == "UNSUBSCRIBE respwire:send-barrier" {
			continue
		}
		if strings.HasPrefix(cmd, prefix) {
			out = append(out, line)
		}
	}
	return out
}

func (f *fakeRedis) conn(id int) *fakeserver.Conn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns[id]
}

// push writes a confirmation-shaped push frame.
func (f *fakeRedis) push(c *fakeserver.Conn, kind, name string, n int) {
	f.reply(c, f.pushFrame(resp.NewBulkString(kind), resp.NewBulkString(name), resp.NewInt(int64(n))))
}

// smessage writes a shard message on c.
func (f *fakeRedis) smessage(c *fakeserver.Conn, channel, payload string) {
	f.reply(c, f.pushFrame(resp.NewBulkString("smessage"), resp.NewBulkString(channel), resp.NewBulkString(payload)))
}

// drop unsubscribes key on c as a server does on its own when a slot moves.
func (f *fakeRedis) drop(c *fakeserver.Conn, key subKey) {
	n := f.set(c.ID(), key, false)
	f.push(c, strings.ToLower(spaceCommands[key.space].unsubscribe), key.name, n)
}

// pushFrame is a push on RESP3 and a plain array on RESP2.
func (f *fakeRedis) pushFrame(elems ...resp.Value) resp.Value {
	if f.resp2 {
		return resp.NewArray(elems...)
	}
	return resp.NewPush(elems...)
}

// reply writes v; a client that went away is not the server's failure.
func (f *fakeRedis) reply(c *fakeserver.Conn, v resp.Value) {
	_ = c.Reply(v)
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func shard(name string) subKey { return subKey{spaceShard, name} }

// distinctSlots returns n shard channel names in n different slots.
func distinctSlots(prefix string, n int) []string {
	seen := make(map[uint16]bool)
	var out []string
	for i := 0; len(out) < n; i++ {
		name := fmt.Sprintf("%s%d", prefix, i)
		if slot := slots.Slot(name); !seen[slot] {
			seen[slot] = true
			out = append(out, name)
		}
	}
	return out
}

// nodeLinks returns the attached shard links.
func (s *Subscriber) nodeLinks() []*link {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*link
	for _, l := range s.nodes {
		out = append(out, l)
	}
	return out
}
