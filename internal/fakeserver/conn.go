package fakeserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"

	"github.com/respwire/respwire/resp"
)

// ErrConnClosed is what Next returns once the connection is closed, by
// either side, and no command is left to read; writes to a closed
// connection wrap it too. A script step that fails with it ends the script
// quietly: the client left, which is the client test's business.
var ErrConnClosed = errors.New("fakeserver: connection closed")

// Conn is the server side of one client connection. Its methods are safe to
// call from any goroutine.
type Conn struct {
	server *Server
	nc     net.Conn
	id     int

	mu       sync.Mutex
	commands [][]string    // read and not yet taken by Next
	arrived  chan struct{} // closed and replaced when commands grows
	readErr  error         // why reading stopped; nil while reading

	writeMu sync.Mutex

	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

func newConn(s *Server, nc net.Conn, id int) *Conn {
	return &Conn{
		server:  s,
		nc:      nc,
		id:      id,
		arrived: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// ID is the connection's place in the server's accept order, from 1.
func (c *Conn) ID() int { return c.id }

// Done is closed once the connection is closed, by the client, the script,
// a handler or Server.Close.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Close closes the connection. Every call after the first returns nil.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		_ = c.nc.Close()
	})
	return nil
}

// Reply writes v, encoded as RESP3 (which is also RESP2 for the RESP2 types).
func (c *Conn) Reply(v resp.Value) error {
	return c.WriteRaw(resp.AppendValue(nil, v))
}

// WriteRaw writes b as it is: half frames, garbage, hostile lengths.
func (c *Conn) WriteRaw(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if _, err := c.nc.Write(b); err != nil {
		if c.isClosed() || isClosedErr(err) {
			return fmt.Errorf("%w (write: %v)", ErrConnClosed, err)
		}
		return fmt.Errorf("fakeserver: conn %d: write: %w", c.id, err)
	}
	return nil
}

// isClosedErr tells whether err only says that one side closed the
// connection.
func isClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

func (c *Conn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Next waits for the client's next command. It returns ErrConnClosed once
// the connection is closed and every command already read was taken.
func (c *Conn) Next() ([]string, error) {
	for {
		c.mu.Lock()
		if len(c.commands) > 0 {
			cmd := c.commands[0]
			c.commands = c.commands[1:]
			c.mu.Unlock()
			return cmd, nil
		}
		readErr, arrived := c.readErr, c.arrived
		c.mu.Unlock()
		if readErr != nil {
			return nil, readErr
		}
		select {
		case <-arrived:
		case <-c.done:
			// Let the read loop record its error; commands that were
			// read before the close are still handed out.
			<-arrived
		}
	}
}

// readLoop decodes the client's commands until the connection fails.
func (c *Conn) readLoop() {
	r := resp.NewReader(c.nc)
	for {
		v, err := r.Read()
		var cmd []string
		if err == nil {
			cmd, err = commandArgs(v)
		}
		c.mu.Lock()
		if err != nil {
			c.readErr = ErrConnClosed
			if !isClosedErr(err) {
				if !c.isClosed() {
					c.readErr = fmt.Errorf("fakeserver: conn %d: read: %w", c.id, err)
				}
			}
		} else {
			c.commands = append(c.commands, cmd)
		}
		close(c.arrived)
		c.arrived = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			_ = c.Close()
			return
		}
	}
}

// commandArgs turns a decoded command (an array of bulk strings) into its
// arguments.
func commandArgs(v resp.Value) ([]string, error) {
	if v.Kind() != resp.Array {
		return nil, fmt.Errorf("fakeserver: command is a %v, not an array", v.Kind())
	}
	elems := v.Elems()
	if len(elems) == 0 {
		return nil, errors.New("fakeserver: empty command")
	}
	args := make([]string, len(elems))
	for i, e := range elems {
		s, err := e.Text()
		if err != nil {
			return nil, fmt.Errorf("fakeserver: command argument %d: %w", i, err)
		}
		args[i] = s
	}
	return args, nil
}

// serve runs script, then h for every later command; with neither left, any
// further command is a failure.
func (c *Conn) serve(script []Step, h Handler) {
	for i, step := range script {
		err := step.run(c)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrConnClosed) {
			c.server.t.Errorf("fakeserver: conn %d: step %d (%s): %v", c.id, i+1, step.name, err)
		}
		return
	}
	if script == nil && h == nil {
		c.server.t.Errorf("fakeserver: conn %d: no script or handler for this connection", c.id)
		return
	}
	for {
		cmd, err := c.Next()
		if err != nil {
			if !errors.Is(err, ErrConnClosed) {
				c.server.t.Errorf("%v", err)
			}
			return
		}
		if h == nil {
			c.server.t.Errorf("fakeserver: conn %d: command after the script ended: %s", c.id, quote(cmd))
			return
		}
		h(c, cmd)
	}
}

func quote(cmd []string) string {
	var b strings.Builder
	for i, a := range cmd {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%q", a)
	}
	return b.String()
}
