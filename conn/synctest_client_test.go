package conn

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// Lifecycle races, made deterministic: each test runs in a testing/synctest
// bubble against a fake server over net.Pipe, so "every goroutine is
// blocked now" (synctest.Wait) and time itself are under the test's control.

// fakeHandler answers HELLO like Redis 7, GET with its key and anything
// else with OK.
func fakeHandler(c *fakeserver.Conn, cmd []string) {
	if fakeserver.ServeHello(c, cmd) {
		return
	}
	switch strings.ToUpper(cmd[0]) {
	case "GET":
		_ = c.Reply(resp.NewBulkString(cmd[1]))
	case "PING":
		_ = c.Reply(resp.NewSimpleString("PONG"))
	default:
		_ = c.Reply(resp.NewSimpleString("OK"))
	}
}

// pipeDialer makes Conns over net.Pipe to s.
func pipeDialer(s *fakeserver.Server, opts *Options) func(context.Context) (*Conn, error) {
	return func(ctx context.Context) (*Conn, error) {
		return NewConn(ctx, s.Pipe(), opts)
	}
}

func newFakeConn(t *testing.T, s *fakeserver.Server, opts *Options) *Conn {
	t.Helper()
	cn, err := pipeDialer(s, opts)(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { _ = cn.Close() })
	return cn
}

func newFakeClient(t *testing.T, s *fakeserver.Server) *Client {
	t.Helper()
	c, err := newClient(t.Context(), pipeDialer(s, nil), 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestSynctestConnCloseRacesClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Handle(fakeHandler)
		cn := newFakeConn(t, s, nil)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { assert.NoError(t, cn.Close()) })
		}
		wg.Wait()
		assert.Equal(t, StateClosed, cn.State())
		<-cn.Done()
		_, err := cn.Do(t.Context(), "PING")
		assert.ErrorIs(t, err, ErrClosed)
	})
}

func TestSynctestClientCloseRacesClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Handle(fakeHandler)
		c := newFakeClient(t, s)
		select {
		case <-c.Done():
			t.Fatal("Done closed before Close")
		default:
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { assert.NoError(t, c.Close()) })
		}
		wg.Wait()
		<-c.Done() // closed by the Close that won, before it returned
		_, err := c.Do(t.Context(), "PING")
		assert.ErrorIs(t, err, ErrClosed)
	})
}

// stallingHandler answers HELLO and never answers anything else, until the
// connection closes.
func stallingHandler(c *fakeserver.Conn, cmd []string) {
	if !fakeserver.ServeHello(c, cmd) {
		<-c.Done()
	}
}

func TestSynctestCloseRacesInFlightDo(t *testing.T) {
	for _, closer := range []string{"conn", "client"} {
		t.Run(closer, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := fakeserver.New(t).Handle(stallingHandler)
				var do func(context.Context, ...string) (resp.Value, error)
				var closeIt func() error
				if closer == "conn" {
					cn := newFakeConn(t, s, nil)
					do, closeIt = cn.Do, cn.Close
				} else {
					c := newFakeClient(t, s)
					do, closeIt = c.Do, c.Close
				}
				errs := make(chan error, 16)
				for range cap(errs) {
					go func() {
						_, err := do(t.Context(), "GET", "k")
						errs <- err
					}()
				}
				synctest.Wait() // every call is written and waits for its reply
				assert.Empty(t, errs)
				require.NoError(t, closeIt())
				for range cap(errs) {
					assert.ErrorIs(t, <-errs, ErrClosed)
				}
			})
		})
	}
}

func TestSynctestServerDropsMidReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Script(
			fakeserver.AcceptHello(),
			fakeserver.Expect("GET", "a"),
			fakeserver.Expect("GET", "b"),
			fakeserver.Reply(resp.NewBulkString("a")),
			fakeserver.DropMidReply(resp.NewBulkString("a value cut in two")),
		)
		cn := newFakeConn(t, s, nil)
		_, err := cn.DoMulti(t.Context(), []string{"GET", "a"}, []string{"GET", "b"})
		assert.ErrorIs(t, err, ErrClosed)
		<-cn.Done()
		assert.Equal(t, StateClosed, cn.State())
	})
}

func TestSynctestBadReplyClosesConn(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
	}{
		{"unknown type byte", []string{"@garbage\r\n"}},
		{"hostile bulk length", []string{"$999999999999\r\n"}},
		{"negative length", []string{"*-5\r\n"}},
		// A bad integer on a whole line fails its own call only: see
		// TestUndecodableReplyFailsOnlyItsCall.
		{"garbage after a good half", []string{"$5\r\nhel", "\x00\x01\x02\r\n\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pieces := make([][]byte, len(tt.pieces))
				for i, p := range tt.pieces {
					pieces[i] = []byte(p)
				}
				release := make(chan struct{})
				s := fakeserver.New(t).Script(
					fakeserver.AcceptHello(),
					fakeserver.Expect("GET", "k"),
					fakeserver.Stall(release), // until the second call is pending too
					fakeserver.ReplyRaw(pieces...),
					fakeserver.Serve(func(*fakeserver.Conn, []string) {}),
				)
				cn := newFakeConn(t, s, nil)
				errs := make(chan error, 2)
				for _, k := range []string{"k", "k2"} {
					go func() {
						_, err := cn.Do(t.Context(), "GET", k)
						errs <- err
					}()
					synctest.Wait()
				}
				close(release)
				for range cap(errs) {
					err := <-errs
					assert.ErrorIs(t, err, ErrClosed)
					assert.ErrorIs(t, err, resp.ErrProtocol, "the error says why")
				}
				<-cn.Done()
			})
		})
	}
}

func TestSynctestPushBetweenReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Script(
			fakeserver.AcceptHello(),
			fakeserver.Expect("GET", "k"),
			fakeserver.Push(resp.NewBulkString("message"), resp.NewBulkString("ch"), resp.NewBulkString("hi")),
			fakeserver.Reply(resp.NewBulkString("v")),
		)
		pushes := make(chan resp.Value, 1)
		cn := newFakeConn(t, s, &Options{OnPush: func(v resp.Value) { pushes <- v }})
		v, err := cn.Do(t.Context(), "GET", "k")
		require.NoError(t, err)
		assert.Equal(t, "v", text(t, v))
		push := <-pushes
		require.Equal(t, resp.Push, push.Kind())
		assert.Equal(t, "hi", text(t, push.Elems()[2]))
	})
}

func TestSynctestRESP2WhenHelloRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Script(
			fakeserver.RefuseHello(),
			fakeserver.Serve(func(c *fakeserver.Conn, cmd []string) {
				_ = c.Reply(resp.NewBulkString(strings.Join(cmd, " ")))
			}),
		)
		cn := newFakeConn(t, s, nil)
		assert.Equal(t, 2, cn.Protocol())
		v, err := cn.Do(t.Context(), "GET", "k")
		require.NoError(t, err)
		assert.Equal(t, "GET k", text(t, v))
	})
}

func TestSynctestReplyInPieces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Script(
			fakeserver.AcceptHello(),
			fakeserver.Expect("HGETALL", "h"),
			fakeserver.ReplyRaw([]byte("%2\r\n$1\r"), []byte("\nf\r\n:1"), []byte("\r\n"), []byte("$1\r\ng\r\n#t\r\n")),
		)
		cn := newFakeConn(t, s, nil)
		v, err := cn.Do(t.Context(), "HGETALL", "h")
		require.NoError(t, err)
		require.Equal(t, resp.Map, v.Kind())
		require.Len(t, v.Elems(), 4)
		n, err := v.Elems()[1].Int()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		b, err := v.Elems()[3].Bool()
		require.NoError(t, err)
		assert.True(t, b)
	})
}

func TestSynctestConnDialRacesContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Script(fakeserver.Expect("HELLO", "3"), fakeserver.Stall(make(chan struct{})))
		ctx, cancel := context.WithCancel(t.Context())
		result := make(chan error, 1)
		go func() {
			cn, err := pipeDialer(s, nil)(ctx)
			if cn != nil {
				_ = cn.Close()
			}
			result <- err
		}()
		synctest.Wait() // the handshake waits for the server
		cancel()
		assert.ErrorIs(t, <-result, context.Canceled)
	})
}

// TestSynctestClientRedialRacesClose: Close while the redial is stuck in a
// handshake the server never answers: Close returns, the redial gives up
// and waiting calls get ErrClosed.
func TestSynctestClientRedialRacesClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stalled := make(chan struct{})
		s := fakeserver.New(t).
			Script(fakeserver.AcceptHello(), fakeserver.Close()).
			Script(fakeserver.Signal(stalled), fakeserver.Stall(make(chan struct{})))
		c := newFakeClient(t, s)
		<-stalled
		waiting := make(chan error, 1)
		go func() {
			_, err := c.Do(t.Context(), "PING")
			waiting <- err
		}()
		synctest.Wait()
		assert.Empty(t, waiting)
		require.NoError(t, c.Close())
		err := <-waiting
		assert.ErrorIs(t, err, ErrClosed)
		assert.True(t, SafeToRetry(err), "the PING was never written: %v", err)
	})
}

// TestSynctestClientRedialBackoff: redials start at once, then back off
// exponentially with jitter up to the cap; calls made meanwhile fail with the
// dial's error, and succeed again once a dial does.
func TestSynctestClientRedialBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Script(fakeserver.AcceptHello(), fakeserver.Close()).Handle(fakeHandler)
		const failures = 10
		var mu sync.Mutex
		var attempts []time.Time
		dial := func(ctx context.Context) (*Conn, error) {
			mu.Lock()
			attempts = append(attempts, time.Now())
			n := len(attempts)
			mu.Unlock()
			if n > 1 && n <= 1+failures {
				return nil, errors.New("conn: dial: connection refused")
			}
			return NewConn(ctx, s.Pipe(), nil)
		}
		c, err := newClient(t.Context(), dial, 0)
		require.NoError(t, err)
		defer c.Close()
		<-c.current.Load().Done()

		// While the redials fail, calls fail at once with the dial's
		// error, unsent, whatever their context.
		synctest.Wait()
		_, err = c.Do(t.Context(), "PING")
		assert.ErrorContains(t, err, "conn: no connection, the last dial failed: conn: dial: connection refused")
		assert.True(t, SafeToRetry(err), "%v", err)
		for !c.Connected() {
			time.Sleep(time.Millisecond) // the bubble's clock: the backoff passes at once
		}
		v, err := c.Do(t.Context(), "GET", "k")
		require.NoError(t, err)
		assert.Equal(t, "k", text(t, v))

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, attempts, failures+2)
		redials := attempts[1:]
		for i := 1; i < len(redials); i++ {
			ceiling := redialBackoff.Ceiling(i)
			gap := redials[i].Sub(redials[i-1])
			assert.GreaterOrEqual(t, gap, ceiling/2, "wait before redial %d", i)
			assert.LessOrEqual(t, gap, ceiling, "wait before redial %d", i)
		}
	})
}

// TestSynctestClientRetriesOnlyUnsentCommands: a command the server may
// have received when the Conn died is not sent again (its caller gets an
// ErrClosed error); a command that met the closed Conn waits for the new one
// and runs there.
func TestSynctestClientRetriesOnlyUnsentCommands(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).
			Script(fakeserver.AcceptHello(), fakeserver.Expect("INCR", "n"), fakeserver.Close()).
			Script(fakeserver.AcceptHello(), fakeserver.Expect("INCR", "m"), fakeserver.Reply(resp.NewInt(1)))
		redial := make(chan struct{})
		dials := 0
		dial := func(ctx context.Context) (*Conn, error) {
			if dials++; dials > 1 {
				<-redial // hold the redial until the test lets it go
			}
			return NewConn(ctx, s.Pipe(), nil)
		}
		c, err := newClient(t.Context(), dial, 0)
		require.NoError(t, err)
		defer c.Close()

		old := c.current.Load()
		_, err = c.Do(t.Context(), "INCR", "n")
		assert.ErrorIs(t, err, ErrClosed, "INCR n may have run: not retried")
		<-old.Done()

		result := make(chan resp.Value, 1)
		go func() {
			v, err := c.Do(t.Context(), "INCR", "m")
			assert.NoError(t, err)
			result <- v
		}()
		synctest.Wait()
		assert.Same(t, old, c.current.Load())
		assert.Empty(t, result, "INCR m waits for the redial")
		close(redial)
		n, err := (<-result).Int()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		assert.Equal(t, 2, s.Accepted())
	})
}

// TestSynctestClientRecoversFromGarbage: a malformed reply fails the calls
// on the shared Conn with the protocol error; the Client dials again and the
// next calls succeed.
func TestSynctestClientRecoversFromGarbage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).
			Script(fakeserver.AcceptHello(), fakeserver.Expect("GET", "k"), fakeserver.ReplyRaw([]byte("$-7\r\n"))).
			Handle(fakeHandler)
		c := newFakeClient(t, s)
		_, err := c.Do(t.Context(), "GET", "k")
		assert.ErrorIs(t, err, resp.ErrProtocol)
		assert.ErrorIs(t, err, ErrClosed)
		v, err := c.Do(t.Context(), "GET", "k2")
		require.NoError(t, err)
		assert.Equal(t, "k2", text(t, v))
		assert.Equal(t, 2, s.Accepted())
	})
}
