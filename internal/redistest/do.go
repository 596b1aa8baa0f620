package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/respwire/respwire/resp"
)

// doTimeout bounds Do when the context has no deadline: a paused server
// must not hang a test forever.
const doTimeout = 10 * time.Second

// Do sends one command on a connection of its own (TLS and AUTH as the node
// needs) and returns the reply. It speaks RESP2 and is meant for setup and
// admin commands, not for the code under test. A server error reply is
// returned as the Value and as its *resp.Error.
func (n *Node) Do(ctx context.Context, args ...string) (resp.Value, error) {
	if len(args) == 0 {
		return resp.Value{}, fmt.Errorf("redistest: Do needs a command")
	}
	replies, err := n.DoMulti(ctx, args)
	if err != nil {
		return resp.Value{}, err
	}
	return replies[0], replies[0].Err()
}

// DoMulti sends commands in one write on a connection of its own and
// returns their replies in order. Error replies are among the values; the
// error is for a failed exchange (dial, TLS, AUTH, I/O, ctx).
func (n *Node) DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	for _, cmd := range cmds {
		if len(cmd) == 0 {
			return nil, fmt.Errorf("redistest: DoMulti: empty command")
		}
	}
	ctx, cancel := withDefaultTimeout(ctx, doTimeout)
	defer cancel()
	c, err := n.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var req []byte
	if n.opts.Password != "" {
		req = resp.AppendCommand(req, "AUTH", n.opts.Password)
	}
	for _, cmd := range cmds {
		req = resp.AppendCommand(req, cmd...)
	}
	if _, err := c.Write(req); err != nil {
		return nil, n.ioError(ctx, cmds[0][0], err)
	}
	r := resp.NewReader(c)
	if n.opts.Password != "" {
		v, err := r.Read()
		if err != nil {
			return nil, n.ioError(ctx, "AUTH", err)
		}
		if err := v.Err(); err != nil {
			return nil, fmt.Errorf("redistest: %s: AUTH refused: %w", n.Addr, err)
		}
	}
	replies := make([]resp.Value, len(cmds))
	for i, cmd := range cmds {
		if replies[i], err = r.Read(); err != nil {
			return nil, n.ioError(ctx, cmd[0], err)
		}
	}
	return replies, nil
}

func (n *Node) ioError(ctx context.Context, cmd string, err error) error {
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The socket's deadline is the context's: it may fire a moment
		// before the context notices.
		err = context.DeadlineExceeded
	}
	return fmt.Errorf("redistest: %s %s: %w", n.Addr, cmd, err)
}

func (n *Node) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", n.Addr)
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	if n.tlsConfig == nil {
		return c, nil
	}
	tc := tls.Client(c, n.tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("redistest: TLS handshake with %s: %w", n.Addr, err)
	}
	return tc, nil
}

// text runs a command whose reply is a string.
func (n *Node) text(ctx context.Context, args ...string) (string, error) {
	v, err := n.Do(ctx, args...)
	if err != nil {
		return "", err
	}
	s, err := v.Text()
	if err != nil {
		return "", fmt.Errorf("redistest: %s %s: %w", n.Addr, args[0], err)
	}
	return s, nil
}

// Info runs INFO section and returns its fields.
func (n *Node) Info(ctx context.Context, section string) (map[string]string, error) {
	return n.fields(ctx, "INFO", section)
}

// ClusterInfo runs CLUSTER INFO and returns its fields.
func (n *Node) ClusterInfo(ctx context.Context) (map[string]string, error) {
	return n.fields(ctx, "CLUSTER", "INFO")
}

// fields runs a command that answers with INFO-style "name:value" lines.
func (n *Node) fields(ctx context.Context, args ...string) (map[string]string, error) {
	v, err := n.Do(ctx, args...)
	if err != nil {
		return nil, err
	}
	fields, err := parseFields(v)
	if err != nil {
		return nil, fmt.Errorf("redistest: %s %s: %w", n.Addr, args[0], err)
	}
	return fields, nil
}

// parseFields parses a reply of "name:value" lines, # comments and blank
// lines, as INFO and CLUSTER INFO send.
func parseFields(v resp.Value) (map[string]string, error) {
	if err := v.Err(); err != nil {
		return nil, err
	}
	s, err := v.Text()
	if err != nil {
		return nil, err
	}
	fields := make(map[string]string)
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = v
		}
	}
	return fields, nil
}
