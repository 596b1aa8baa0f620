package fakeserver_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// client is the simplest RESP client: one command, one reply.
type client struct {
	t  *testing.T
	nc net.Conn
	r  *resp.Reader
}

func newClient(t *testing.T, nc net.Conn) *client {
	t.Cleanup(func() { _ = nc.Close() })
	return &client{t: t, nc: nc, r: resp.NewReader(nc)}
}

func dial(t *testing.T, s *fakeserver.Server) *client {
	nc, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	return newClient(t, nc)
}

func (c *client) send(args ...string) {
	_, err := c.nc.Write(resp.AppendCommand(nil, args...))
	require.NoError(c.t, err)
}

func (c *client) read() resp.Value {
	v, err := c.r.Read()
	require.NoError(c.t, err)
	return v
}

func (c *client) text() string {
	s, err := c.read().Text()
	require.NoError(c.t, err)
	return s
}

// recorder is a TB that keeps failures for the test to look at, for tests
// of the failures themselves. Its owner calls Close on the server.
type recorder struct {
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper()        {}
func (r *recorder) Cleanup(func()) {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func TestScriptExpectAndReply(t *testing.T) {
	s := fakeserver.Start(t).Script(
		fakeserver.AcceptHello(),
		fakeserver.Expect("get", "k"),
		fakeserver.Reply(resp.NewBulkString("v")),
		fakeserver.Expect("SET", "k", "v2"),
		fakeserver.Reply(resp.NewSimpleString("OK")),
	)
	c := dial(t, s)
	c.send("HELLO", "3")
	hello := c.read()
	assert.Equal(t, resp.Map, hello.Kind())
	c.send("GET", "k")
	assert.Equal(t, "v", c.text())
	c.send("SET", "k", "v2")
	assert.Equal(t, "OK", c.text())
	assert.Equal(t, 1, s.Accepted())
}

func TestScriptsGoToConnectionsInOrder(t *testing.T) {
	s := fakeserver.Start(t).
		Script(fakeserver.Expect("PING"), fakeserver.Reply(resp.NewSimpleString("first"))).
		Script(fakeserver.Expect("PING"), fakeserver.Reply(resp.NewSimpleString("second")))
	for _, want := range []string{"first", "second"} {
		c := dial(t, s)
		c.send("PING")
		assert.Equal(t, want, c.text())
	}
}

func TestExpectMismatchIsReported(t *testing.T) {
	rec := &recorder{}
	s := fakeserver.New(rec).Script(fakeserver.Expect("GET", "k"), fakeserver.Reply(resp.NewBulkString("v")))
	c := newClient(t, s.Pipe())
	c.send("GET", "other")
	_, err := c.r.Read()
	assert.ErrorIs(t, err, io.EOF, "the server closes a connection whose script failed")
	require.NoError(t, s.Close())
	failures := rec.failures()
	require.Len(t, failures, 1)
	assert.Contains(t, failures[0], `got command "GET" "other", want "GET" "k"`)
}

func TestExpectReportsEarlyClose(t *testing.T) {
	rec := &recorder{}
	s := fakeserver.New(rec).Script(fakeserver.Expect("GET", "k"))
	nc := s.Pipe()
	require.NoError(t, nc.Close())
	require.NoError(t, s.Close())
	failures := rec.failures()
	require.Len(t, failures, 1)
	assert.Contains(t, failures[0], `connection closed while waiting for "GET" "k"`)
}

func TestUnscriptedConnectionIsReported(t *testing.T) {
	rec := &recorder{}
	s := fakeserver.New(rec).Script(fakeserver.Expect("PING"), fakeserver.Reply(resp.NewSimpleString("PONG")))
	c := newClient(t, s.Pipe())
	c.send("PING")
	assert.Equal(t, "PONG", c.text())
	c.send("GET", "k")
	_, err := c.r.Read()
	assert.ErrorIs(t, err, io.EOF)

	newClient(t, s.Pipe())
	require.NoError(t, s.Close())
	failures := rec.failures()
	require.Len(t, failures, 2)
	assert.Contains(t, failures[0], `conn 1: command after the script ended: "GET" "k"`)
	assert.Contains(t, failures[1], "conn 2: no script or handler")
}

func TestPushBetweenReplies(t *testing.T) {
	s := fakeserver.Start(t).Script(
		fakeserver.Expect("GET", "k"),
		fakeserver.Push(resp.NewBulkString("invalidate"), resp.NewArray(resp.NewBulkString("k"))),
		fakeserver.Reply(resp.NewBulkString("v")),
	)
	c := dial(t, s)
	c.send("GET", "k")
	push := c.read()
	require.Equal(t, resp.Push, push.Kind())
	require.Len(t, push.Elems(), 2)
	assert.Equal(t, "v", c.text())
}

func TestReplyRawInPieces(t *testing.T) {
	s := fakeserver.New(t).Script(
		fakeserver.Expect("GET", "k"),
		fakeserver.ReplyRaw([]byte("$5\r"), []byte("\nhel"), []byte("lo\r\n")),
	)
	nc := s.Pipe()
	t.Cleanup(func() { _ = nc.Close() })
	_, err := nc.Write(resp.AppendCommand(nil, "GET", "k"))
	require.NoError(t, err)
	// Over net.Pipe every write of the server is read on its own.
	var got []string
	buf := make([]byte, 64)
	for range 3 {
		n, err := nc.Read(buf)
		require.NoError(t, err)
		got = append(got, string(buf[:n]))
	}
	assert.Equal(t, []string{"$5\r", "\nhel", "lo\r\n"}, got)
}

func TestDropMidReply(t *testing.T) {
	s := fakeserver.Start(t).Script(
		fakeserver.Expect("GET", "k"),
		fakeserver.DropMidReply(resp.NewBulkString("a longer value")),
	)
	c := dial(t, s)
	c.send("GET", "k")
	_, err := c.r.Read()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestStall(t *testing.T) {
	t.Run("released", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			stalled := make(chan struct{})
			s := fakeserver.New(t).Script(
				fakeserver.Expect("GET", "k"),
				fakeserver.Signal(stalled),
				fakeserver.Stall(release),
				fakeserver.Reply(resp.NewBulkString("v")),
			)
			c := newClient(t, s.Pipe())
			c.send("GET", "k")
			got := make(chan string, 1)
			go func() { got <- c.text() }()
			<-stalled
			synctest.Wait()
			assert.Empty(t, got, "a reply came before the stall was released")
			close(release)
			assert.Equal(t, "v", <-got)
		})
	})
	t.Run("ended by client close", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := fakeserver.New(t).Script(fakeserver.Stall(make(chan struct{})))
			nc := s.Pipe()
			require.NoError(t, nc.Close())
			require.NoError(t, s.Close(), "Close would hang if the stall outlived the connection")
		})
	})
	t.Run("ended by server close", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			stalled := make(chan struct{})
			s := fakeserver.New(t).Script(fakeserver.Signal(stalled), fakeserver.Stall(make(chan struct{})))
			nc := s.Pipe()
			t.Cleanup(func() { _ = nc.Close() })
			<-stalled
			require.NoError(t, s.Close())
			_, err := nc.Read(make([]byte, 1))
			assert.ErrorIs(t, err, io.EOF)
		})
	})
}

func TestCloseStep(t *testing.T) {
	s := fakeserver.Start(t).Script(fakeserver.Expect("PING"), fakeserver.Close())
	c := dial(t, s)
	c.send("PING")
	_, err := c.r.Read()
	assert.ErrorIs(t, err, io.EOF)
}

func TestHostileReplies(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"huge bulk length", "$999999999999\r\n"},
		{"negative bulk length", "$-7\r\n"},
		{"unknown type byte", "@what\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeserver.New(t).Script(fakeserver.Expect("GET", "k"), fakeserver.ReplyRaw([]byte(tt.raw)))
			c := newClient(t, s.Pipe())
			c.send("GET", "k")
			_, err := c.r.Read()
			assert.ErrorIs(t, err, resp.ErrProtocol)
		})
	}
}

func TestHandler(t *testing.T) {
	s := fakeserver.Start(t).Handle(func(c *fakeserver.Conn, cmd []string) {
		if fakeserver.ServeHello(c, cmd) {
			return
		}
		switch strings.ToUpper(cmd[0]) {
		case "GET":
			_ = c.Reply(resp.NewBulkString(cmd[1]))
		default:
			_ = c.Reply(resp.NewSimpleError("ERR unknown command"))
		}
	})
	for range 2 {
		c := dial(t, s)
		c.send("HELLO", "2")
		hello := c.read()
		assert.Equal(t, resp.Array, hello.Kind(), "HELLO 2 is answered with a flat array")
		c.send("GET", "a")
		c.send("get", "b")
		assert.Equal(t, "a", c.text())
		assert.Equal(t, "b", c.text())
		c.send("PING")
		assert.Error(t, c.read().Err())
	}
	assert.Equal(t, 2, s.Accepted())
}

func TestRefuseHelloThenServe(t *testing.T) {
	s := fakeserver.Start(t).Script(
		fakeserver.RefuseHello(),
		fakeserver.Serve(func(c *fakeserver.Conn, cmd []string) {
			_ = c.Reply(resp.NewSimpleString("PONG"))
		}),
	)
	c := dial(t, s)
	c.send("HELLO", "3")
	var serverErr *resp.Error
	require.ErrorAs(t, c.read().Err(), &serverErr)
	assert.Equal(t, "ERR", serverErr.Code)
	c.send("PING")
	assert.Equal(t, "PONG", c.text())
}

func TestCloseIsIdempotentAndWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		handling := make(chan struct{})
		s := fakeserver.New(t).Handle(func(c *fakeserver.Conn, cmd []string) {
			close(handling)
			<-c.Done() // a handler that only returns when the connection closes
		})
		nc := s.Pipe()
		t.Cleanup(func() { _ = nc.Close() })
		_, err := nc.Write(resp.AppendCommand(nil, "PING"))
		require.NoError(t, err)
		<-handling
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { assert.NoError(t, s.Close()) })
		}
		wg.Wait()
		// A connection handed to a closed server is closed at once.
		nc2 := s.Pipe()
		_, err = nc2.Read(make([]byte, 1))
		assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe), "read after close: %v", err)
	})
}

func TestExpectFuncAndDo(t *testing.T) {
	rec := &recorder{}
	s := fakeserver.New(rec).Script(
		fakeserver.ExpectFunc("SET with EX", func(cmd []string) error {
			if len(cmd) != 5 || !strings.EqualFold(cmd[3], "EX") {
				return fmt.Errorf("got %q", cmd)
			}
			return nil
		}),
		fakeserver.Do("reply with the connection's ID", func(c *fakeserver.Conn) error {
			return c.Reply(resp.NewInt(int64(c.ID())))
		}),
		fakeserver.ExpectFunc("anything but DEL", func(cmd []string) error {
			if strings.EqualFold(cmd[0], "DEL") {
				return errors.New("DEL is not welcome")
			}
			return nil
		}),
	)
	c := newClient(t, s.Pipe())
	c.send("SET", "k", "v", "EX", "10")
	n, err := c.read().Int()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	c.send("DEL", "k")
	_, err = c.r.Read()
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, s.Close())
	failures := rec.failures()
	require.Len(t, failures, 1)
	assert.Contains(t, failures[0], "step 3 (expect anything but DEL): DEL is not welcome")
}
