package pubsub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// subConn is what a link needs of its connection: conn.Conn on RESP3, or a
// resp2Conn for servers that speak RESP2 only.
type subConn interface {
	Send(ctx context.Context, args ...string) error
	Close() error
	Done() <-chan struct{}
}

// dialSubConn connects to addr for pub/sub: a conn.Conn on RESP3, or a
// resp2Conn when opts.Protocol is 2 or the server refused HELLO.
func dialSubConn(ctx context.Context, addr string, opts *conn.Options) (subConn, error) {
	if opts.Protocol != 2 {
		c, err := conn.Dial(ctx, addr, opts)
		if err != nil {
			return nil, err
		}
		if c.Protocol() == 3 {
			return c, nil
		}
		c.Close() // the server speaks RESP2 only: redial in subscribe mode's terms
	}
	c, err := dialRESP2(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// resp2ReadBuffer is the reader's buffer, as large as conn.Conn's: a burst
// of small messages is decoded from one read.
const resp2ReadBuffer = 16 << 10

// resp2Barrier is the argument of the PING written after every command, as
// conn.Conn.Send does on RESP3: its answer ends what the command caused.
const resp2Barrier = "respwire:pubsub-barrier"

// resp2Conn is a connection dedicated to pub/sub on RESP2, where the server
// answers subscribe commands, and sends messages, as plain arrays. Every
// array it reads goes to onPush; an error reply belongs to the oldest
// command not yet answered; the PING barrier's answer (["pong", token] in
// subscribe mode, the bare token outside it) completes that command.
type resp2Conn struct {
	nc     net.Conn
	rd     *resp.Reader
	addr   string
	onPush func(resp.Value)

	writeMu sync.Mutex // one command and its barrier per write, in queue order

	mu      sync.Mutex
	waiting []*resp2Request // written, not yet answered, in write order
	err     error           // why the connection is closed; nil while open

	done chan struct{} // closed when the reader has exited
}

type resp2Request struct {
	done chan struct{} // closed when answered or failed
	err  error
}

// dialRESP2 connects to addr and authenticates, names and selects as opts
// say, in RESP2.
func dialRESP2(ctx context.Context, addr string, opts *conn.Options) (*resp2Conn, error) {
	if opts.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.DialTimeout)
		defer cancel()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pubsub: dial %s: %w", addr, err)
	}
	if opts.TLSConfig != nil {
		cfg := opts.TLSConfig
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("pubsub: TLS handshake with %s: %w", addr, err)
		}
		nc = tc
	}
	c := &resp2Conn{nc: nc, rd: resp.NewReaderSize(nc, resp2ReadBuffer), addr: addr, onPush: opts.OnPush, done: make(chan struct{})}
	if err := c.handshake(ctx, opts); err != nil {
		nc.Close()
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

func (c *resp2Conn) handshake(ctx context.Context, opts *conn.Options) error {
	var cmds [][]string
	switch {
	case opts.Password != "" && opts.Username != "":
		cmds = append(cmds, []string{"AUTH", opts.Username, opts.Password})
	case opts.Password != "":
		cmds = append(cmds, []string{"AUTH", opts.Password})
	}
	if opts.ClientName != "" {
		cmds = append(cmds, []string{"CLIENT", "SETNAME", opts.ClientName})
	}
	if opts.DB != 0 {
		cmds = append(cmds, []string{"SELECT", strconv.Itoa(opts.DB)})
	}
	if len(cmds) == 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok {
		c.nc.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var buf []byte
	for _, args := range cmds {
		buf = resp.AppendCommand(buf, args...)
	}
	if _, err := c.nc.Write(buf); err != nil {
		return fmt.Errorf("pubsub: handshake with %s: %w", c.addr, err)
	}
	for range cmds {
		v, err := c.rd.Read()
		if err == nil {
			err = v.Err() // the server's text; it never quotes the password
		}
		if err != nil {
			return fmt.Errorf("pubsub: handshake with %s: %w", c.addr, err)
		}
	}
	if !stop() || ctx.Err() != nil {
		return fmt.Errorf("pubsub: handshake with %s: %w", c.addr, context.Cause(ctx))
	}
	c.nc.SetDeadline(time.Time{})
	return nil
}

// Send writes args and a PING barrier, and returns once the barrier is
// answered (every array the command caused has gone to onPush), with the
// command's error reply as a *resp.Error.
func (c *resp2Conn) Send(ctx context.Context, args ...string) error {
	r := &resp2Request{done: make(chan struct{})}
	buf := resp.AppendCommand(nil, args...)
	buf = resp.AppendCommand(buf, "PING", resp2Barrier)
	c.writeMu.Lock()
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		c.writeMu.Unlock()
		return c.err
	}
	c.waiting = append(c.waiting, r)
	c.mu.Unlock()
	_, err := c.nc.Write(buf)
	c.writeMu.Unlock()
	if err != nil {
		c.fail(err)
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err() // the answer is read and dropped when it comes
	}
}

// readLoop is the reader goroutine.
func (c *resp2Conn) readLoop() {
	defer close(c.done)
	for {
		v, err := c.rd.Read()
		if err != nil {
			c.fail(err)
			return
		}
		switch {
		case isResp2Barrier(v):
			c.answer(nil, true)
		case v.Kind() == resp.SimpleError || v.Kind() == resp.BulkError:
			c.answer(v.Err(), false)
		case v.Kind() == resp.Array:
			c.onPush(v)
		}
	}
}

// answer records err for the oldest waiting command, and completes it when
// its barrier has arrived.
func (c *resp2Conn) answer(err error, complete bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiting) == 0 {
		return
	}
	r := c.waiting[0]
	if err != nil && r.err == nil {
		r.err = err
	}
	if complete {
		c.waiting = c.waiting[1:]
		close(r.done)
	}
}

func isResp2Barrier(v resp.Value) bool {
	if v.Kind() == resp.Array {
		elems := v.Elems()
		if len(elems) != 2 {
			return false
		}
		if kind, err := elems[0].Text(); err != nil || kind != "pong" {
			return false
		}
		v = elems[1]
	}
	token, err := v.Text()
	return err == nil && v.Kind() == resp.BulkString && token == resp2Barrier
}

// fail closes the connection because of cause (the first cause wins) and
// fails every waiting command with an error wrapping conn.ErrClosed.
func (c *resp2Conn) fail(cause error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if errors.Is(cause, conn.ErrClosed) {
		c.err = cause
	} else {
		c.err = fmt.Errorf("pubsub: connection to %s lost: %w (%w)", c.addr, cause, conn.ErrClosed)
	}
	waiting := c.waiting
	c.waiting = nil
	for _, r := range waiting {
		r.err = c.err
		close(r.done)
	}
	c.mu.Unlock()
	c.nc.Close()
}

// Close closes the connection and waits for its reader to exit.
func (c *resp2Conn) Close() error {
	c.fail(conn.ErrClosed)
	<-c.done
	return nil
}

// Done is closed once the reader has exited, whatever closed the connection.
func (c *resp2Conn) Done() <-chan struct{} { return c.done }
