package fakeserver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/respwire/respwire/resp"
)

// Step is one thing a scripted connection does: read and check a command,
// write something, wait, or close. Steps run in order on the connection's
// own goroutine; the first that fails is reported to the server's TB and
// ends the script.
type Step struct {
	name string
	run  func(c *Conn) error
}

// String names the step, as failures do.
func (s Step) String() string { return s.name }

// Expect reads the next command and checks it is args: the command name
// compared without regard to case, the arguments exactly.
func Expect(args ...string) Step {
	want := quote(args)
	return Step{name: "expect " + want, run: func(c *Conn) error {
		got, err := next(c, want)
		if err != nil {
			return err
		}
		if !sameCommand(got, args) {
			return fmt.Errorf("got command %s, want %s", quote(got), want)
		}
		return nil
	}}
}

// ExpectFunc reads the next command and hands it to check; a non-nil error
// is a failure.
func ExpectFunc(name string, check func(cmd []string) error) Step {
	return Step{name: "expect " + name, run: func(c *Conn) error {
		got, err := next(c, name)
		if err != nil {
			return err
		}
		return check(got)
	}}
}

// next reads a command for a step; a connection closed before it arrived is
// a failure, not a quiet end, because the script said it would come. The
// CLIENT TRACKING that a caching client sends in its handshake is answered
// OK on the way, unless the step waits for it.
func next(c *Conn, want string) ([]string, error) {
	for {
		got, err := c.Next()
		if errors.Is(err, ErrConnClosed) {
			return nil, fmt.Errorf("connection closed while waiting for %s", want)
		}
		if err == nil && isTracking(got) && !strings.Contains(strings.ToUpper(want), "TRACKING") {
			if err := c.Reply(resp.NewSimpleString("OK")); err != nil {
				return nil, err
			}
			continue
		}
		return got, err
	}
}

// isTracking reports whether cmd is CLIENT TRACKING.
func isTracking(cmd []string) bool {
	return len(cmd) >= 2 && strings.EqualFold(cmd[0], "CLIENT") && strings.EqualFold(cmd[1], "TRACKING")
}

func sameCommand(got, want []string) bool {
	if len(got) != len(want) || len(got) == 0 || !strings.EqualFold(got[0], want[0]) {
		return false
	}
	for i := 1; i < len(got); i++ {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// Reply writes v.
func Reply(v resp.Value) Step {
	return Step{name: "reply " + v.String(), run: func(c *Conn) error { return c.Reply(v) }}
}

// Push writes a push frame made of elems, as a server does between replies.
func Push(elems ...resp.Value) Step {
	v := resp.NewPush(elems...)
	return Step{name: "push " + v.String(), run: func(c *Conn) error { return c.Reply(v) }}
}

// ReplyRaw writes each piece with a write of its own, so a client over
// net.Pipe reads them apart: half frames, garbage, hostile lengths.
func ReplyRaw(pieces ...[]byte) Step {
	return Step{name: fmt.Sprintf("reply %d raw pieces", len(pieces)), run: func(c *Conn) error {
		for _, p := range pieces {
			if err := c.WriteRaw(p); err != nil {
				return err
			}
		}
		return nil
	}}
}

// Stall waits until release is closed: a channel of the test's, or
// ctx.Done() to stall until a context ends. It also ends, quietly ending the
// script, when the connection or the server closes first.
func Stall(release <-chan struct{}) Step {
	return Step{name: "stall", run: func(c *Conn) error {
		select {
		case <-release:
			return nil
		case <-c.done:
			return ErrConnClosed
		case <-c.server.closing:
			return ErrConnClosed
		}
	}}
}

// Signal closes ch when the script reaches it, to tell the test how far the
// connection got. ch must not be closed by anyone else.
func Signal(ch chan<- struct{}) Step {
	return Step{name: "signal", run: func(*Conn) error {
		close(ch)
		return nil
	}}
}

// DropMidReply writes the first half of v's encoding (at least one byte,
// never all of it) and closes the connection.
func DropMidReply(v resp.Value) Step {
	return Step{name: "drop mid-reply " + v.String(), run: func(c *Conn) error {
		b := resp.AppendValue(nil, v)
		half := max(len(b)/2, 1)
		if half == len(b) {
			half = 0
		}
		err := c.WriteRaw(b[:half])
		_ = c.Close()
		if err != nil {
			return err
		}
		return ErrConnClosed
	}}
}

// Close closes the connection; the steps after it do not run.
func Close() Step {
	return Step{name: "close", run: func(c *Conn) error {
		_ = c.Close()
		return ErrConnClosed
	}}
}

// Serve hands the rest of the connection to h, one command at a time, as
// Server.Handle does for connections without a script.
func Serve(h Handler) Step {
	return Step{name: "serve", run: func(c *Conn) error {
		for {
			cmd, err := c.Next()
			if err != nil {
				return err
			}
			h(c, cmd)
		}
	}}
}

// Do runs fn on the connection, for anything the other steps do not cover.
// A non-nil error is a failure (unless it wraps ErrConnClosed).
func Do(name string, fn func(c *Conn) error) Step {
	return Step{name: name, run: fn}
}
