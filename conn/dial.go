package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/respwire/respwire/resp"
)

// readBufferSize is the reader's buffer: replies to a few hundred pipelined
// small commands fit in one read.
const readBufferSize = 16 << 10

// Dial connects to the server at addr ("host:port") and performs the
// handshake (see Options). The context bounds dialling and the handshake,
// not the Conn's life. opts may be nil.
func Dial(ctx context.Context, addr string, opts *Options) (*Conn, error) {
	if opts == nil {
		opts = &Options{}
	}
	if h := opts.Hooks; h != nil && h.Dial != nil {
		start := time.Now()
		c, err := dial(ctx, addr, opts)
		fireDial(ctx, opts, addr, start, err)
		return c, err
	}
	return dial(ctx, addr, opts)
}

// dial is Dial, opts not nil.
func dial(ctx context.Context, addr string, opts *Options) (*Conn, error) {
	if opts.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.DialTimeout)
		defer cancel()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("conn: dial %s: %w", addr, err)
	}
	c, err := newConn(ctx, nc, addr, opts)
	if err != nil {
		return nil, err
	}
	c.startLiveness(opts, dialProbe(addr, opts.TLSConfig))
	return c, nil
}

// NewConn performs the handshake on nc, an established connection (for
// example one end of net.Pipe), and returns a Conn that owns it. With
// Options.TLSConfig set, nc is wrapped in TLS first. On error nc is closed.
// The context bounds the handshake only; Options.DialTimeout is not used.
func NewConn(ctx context.Context, nc net.Conn, opts *Options) (*Conn, error) {
	if opts == nil {
		opts = &Options{}
	}
	addr := nc.RemoteAddr().String()
	if h := opts.Hooks; h != nil && h.Dial != nil {
		start := time.Now()
		c, err := newConn(ctx, nc, addr, opts)
		fireDial(ctx, opts, addr, start, err)
		return c, err
	}
	return newConn(ctx, nc, addr, opts)
}

func newConn(ctx context.Context, nc net.Conn, addr string, opts *Options) (*Conn, error) {
	if opts.Protocol != 0 && opts.Protocol != 2 && opts.Protocol != 3 {
		nc.Close()
		return nil, fmt.Errorf("conn: Options.Protocol is %d; want 2 or 3", opts.Protocol)
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
			return nil, fmt.Errorf("conn: TLS handshake with %s: %w", addr, err)
		}
		nc = tc
	}
	c := &Conn{
		nc:         nc,
		addr:       addr,
		onPush:     opts.OnPush,
		db:         opts.DB,
		hooks:      opts.Hooks,
		logger:     opts.Logger,
		kick:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		done:       make(chan struct{}),
		maxPending: opts.MaxWriteBuffer,
		plain:      plainSocket(nc),
	}
	if c.maxPending <= 0 {
		c.maxPending = defaultMaxWriteBuffer
	}
	c.sock.nc = nc
	c.setOnPubSubMessage(opts.OnPubSubMessage)
	c.rd = resp.NewReaderSize(&c.sock, readBufferSize)
	c.tracking.store = opts.cacheStore
	if err := c.handshake(ctx, opts); err != nil {
		nc.Close()
		return nil, err
	}
	// The limits are for the callers' replies: the handshake's are the
	// server's own, whatever the limits.
	c.rd.SetMaxElements(opts.MaxReplyElements)
	c.rd.SetMaxBulkLen(opts.MaxBulkLen)
	c.start()
	return c, nil
}

// credentials returns the username and password to authenticate with: from
// opts.Credentials when set, else opts.Username and opts.Password.
func credentials(ctx context.Context, addr string, opts *Options) (username, password string, err error) {
	if opts.Credentials == nil {
		return opts.Username, opts.Password, nil
	}
	username, password, err = opts.Credentials(ctx)
	if err != nil {
		return "", "", fmt.Errorf("conn: credentials for %s: %w", addr, err)
	}
	return username, password, nil
}

// handshake runs before the Conn's goroutines start, reading and writing the
// socket directly under the context's deadline.
func (c *Conn) handshake(ctx context.Context, opts *Options) (err error) {
	if deadline, ok := ctx.Deadline(); ok {
		c.nc.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		// The socket's deadline can fire a moment before the context
		// notices its own; either way the context is what ended it.
		expired := err != nil && pastDeadline(ctx)
		if !stop() || ctx.Err() != nil || expired {
			// The deadline may have been moved to the past: the
			// socket is unusable, whatever the handshake returned.
			cause := context.Cause(ctx)
			if cause == nil {
				cause = context.DeadlineExceeded
			}
			err = fmt.Errorf("conn: handshake with %s: %w", c.addr, cause)
			return
		}
		c.nc.SetDeadline(time.Time{})
	}()

	username, password, err := credentials(ctx, c.addr, opts)
	if err != nil {
		return err
	}
	if opts.Protocol == 2 {
		c.proto = 2
		return c.handshake2(opts, username, password, true)
	}
	c.proto = 3
	hello := []string{"HELLO", "3"}
	if password != "" {
		user := username
		if user == "" {
			user = "default"
		}
		hello = append(hello, "AUTH", user, password)
	}
	if opts.ClientName != "" {
		hello = append(hello, "SETNAME", opts.ClientName)
	}
	cmds := [][]string{hello}
	if opts.DB != 0 {
		cmds = append(cmds, selectCommand(opts.DB))
	}
	// Client-side caching: tracking goes on in the same round trip.
	trackAt := 0
	if opts.cacheStore != nil {
		trackAt = len(cmds)
		cmds = append(cmds, trackingCommand)
	}
	replies, err := c.roundTrip(cmds)
	if err != nil {
		return err
	}
	if e := replies[0].Err(); e != nil {
		if !helloRefused(e) {
			return fmt.Errorf("conn: handshake with %s: %w", c.addr, e)
		}
		// A server older than 6: carry on in RESP2. The SELECT went
		// through unless the server wants a password first.
		c.proto = 2
		selected := len(replies) > 1 && replies[1].Err() == nil
		return c.handshake2(opts, username, password, !selected)
	}
	for i, v := range replies[1:] {
		if e := v.Err(); e != nil && i+1 != trackAt {
			return fmt.Errorf("conn: handshake with %s: %w", c.addr, e)
		}
	}
	// A server that refuses tracking (an ACL without CLIENT) is read
	// through by DoCache.
	c.tracking.on = trackAt > 0 && replies[trackAt].Err() == nil
	return nil
}

// handshake2 authenticates, names and (when needSelect) selects in RESP2, for
// a server that refused HELLO or when Options.Protocol is 2.
func (c *Conn) handshake2(opts *Options, username, password string, needSelect bool) error {
	var cmds [][]string
	switch {
	case password != "" && username != "":
		cmds = append(cmds, []string{"AUTH", username, password})
	case password != "":
		cmds = append(cmds, []string{"AUTH", password})
	}
	if opts.ClientName != "" {
		cmds = append(cmds, []string{"CLIENT", "SETNAME", opts.ClientName})
	}
	if opts.DB != 0 && needSelect {
		cmds = append(cmds, selectCommand(opts.DB))
	}
	if len(cmds) == 0 {
		return nil
	}
	replies, err := c.roundTrip(cmds)
	if err != nil {
		return err
	}
	for _, v := range replies {
		if e := v.Err(); e != nil {
			return fmt.Errorf("conn: handshake with %s: %w", c.addr, e)
		}
	}
	return nil
}

// roundTrip writes cmds in one write and reads one reply for each; push
// frames met on the way go to OnPush.
func (c *Conn) roundTrip(cmds [][]string) ([]resp.Value, error) {
	var buf []byte
	for _, args := range cmds {
		buf = resp.AppendCommand(buf, args...)
	}
	n, err := c.nc.Write(buf)
	c.counts.bytesWritten.Add(uint64(n))
	if err != nil {
		return nil, fmt.Errorf("conn: handshake with %s: %w", c.addr, err)
	}
	replies := make([]resp.Value, 0, len(cmds))
	for len(replies) < len(cmds) {
		v, err := c.rd.Read()
		if err != nil {
			return nil, fmt.Errorf("conn: handshake with %s: %w", c.addr, err)
		}
		if v.Kind() == resp.Push {
			c.push(v)
			continue
		}
		replies = append(replies, v)
	}
	return replies, nil
}

// helloRefused reports whether err is how a server without RESP3 answers
// HELLO: NOPROTO, or an unknown-command error from a server older than 6.
func helloRefused(err error) bool {
	var re *resp.Error
	if !errors.As(err, &re) {
		return false
	}
	return re.Code == "NOPROTO" || (re.Code == "ERR" && strings.Contains(strings.ToLower(re.Message), "unknown command"))
}

func selectCommand(db int) []string { return []string{"SELECT", strconv.Itoa(db)} }

func pastDeadline(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}
