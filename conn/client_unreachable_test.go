package conn

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/faultproxy"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// unreachableDialTimeout is the DialTimeout of the Clients below; their
// calls must return within about it while the server can't be reached.
const unreachableDialTimeout = 200 * time.Millisecond

// callBound is how long such a call may take: the dial timeout and plenty of
// slack for a loaded machine, far below the test's own deadline.
const callBound = unreachableDialTimeout + 2*time.Second

// timedCall runs call with context.Background, which never ends, and
// fails the test when it takes longer than callBound.
func timedCall(t *testing.T, what string, call func(ctx context.Context) error) error {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- call(context.Background()) }()
	select {
	case err := <-done:
		t.Logf("%s returned after %v: %v", what, time.Since(start).Round(time.Millisecond), err)
		return err
	case <-time.After(callBound + 10*time.Second):
		t.Fatalf("%s with context.Background still blocked after %v", what, time.Since(start))
		return nil
	}
}

// TestClientFailsFastWhileUnreachable: the server behind a proxy becomes
// unreachable, by refusing connections or by black-holing them. Do,
// DoMulti, a blocking command and Dedicated, each with context.Background,
// return within about DialTimeout an error that wraps the last dial error
// and satisfies SafeToRetry; once the server is reachable again, calls
// succeed. Before, Do stayed blocked (a Background call waited for ever)
// and Dedicated failed with a bare dial error that was not SafeToRetry.
func TestClientFailsFastWhileUnreachable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cut     func(p *faultproxy.Proxy)
		restore func(p *faultproxy.Proxy) error
		cause   func(t *testing.T, err error)
	}{
		{
			name: "refused",
			cut:  func(p *faultproxy.Proxy) { p.Refuse(); p.CutAll() },
			restore: func(p *faultproxy.Proxy) error {
				return p.Accept()
			},
			cause: func(t *testing.T, err error) { assert.ErrorIs(t, err, syscall.ECONNREFUSED) },
		},
		{
			name: "black hole",
			cut:  func(p *faultproxy.Proxy) { p.Stall(); p.CutAll() },
			restore: func(p *faultproxy.Proxy) error {
				p.Unstall()
				return nil
			},
			cause: func(t *testing.T, err error) { assert.ErrorIs(t, err, context.DeadlineExceeded) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy, err := faultproxy.Start(redistest.Server().Addr)
			require.NoError(t, err)
			defer proxy.Close()
			ctx := testContext(t)
			c, err := NewClient(ctx, proxy.Addr(), &Options{DialTimeout: unreachableDialTimeout})
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Do(ctx, "PING")
			require.NoError(t, err)
			old := c.current.Load()

			tc.cut(proxy)
			<-old.Done()
			check := func(what string, err error) {
				t.Helper()
				require.Error(t, err, what)
				assert.True(t, SafeToRetry(err), "%s: %v", what, err)
				assert.Contains(t, err.Error(), "conn: ", what)
				tc.cause(t, err)
			}
			for range 3 {
				check("Do", timedCall(t, "Do", func(ctx context.Context) error {
					_, err := c.Do(ctx, "PING")
					return err
				}))
			}
			check("DoMulti", timedCall(t, "DoMulti", func(ctx context.Context) error {
				_, err := c.DoMulti(ctx, []string{"PING"}, []string{"PING"})
				return err
			}))
			check("BLPOP", timedCall(t, "BLPOP", func(ctx context.Context) error {
				_, err := c.Do(ctx, "BLPOP", clientKey(t, "list"), "0")
				return err
			}))
			ran := false
			check("Dedicated", timedCall(t, "Dedicated", func(ctx context.Context) error {
				return c.Dedicated(ctx, func(*Conn) error { ran = true; return nil })
			}))
			assert.False(t, ran, "Dedicated ran fn without a Conn")

			require.NoError(t, tc.restore(proxy))
			waitConnected(t, c)
			v, err := c.Do(ctx, "PING")
			require.NoError(t, err)
			assert.Equal(t, "PONG", text(t, v))
		})
	}
}

// TestDedicatedFailsFastWhenServerDown: Dedicated's own dial, before the
// shared Conn has noticed anything, fails with an unsent error wrapping the
// dial error.
func TestDedicatedFailsFastWhenServerDown(t *testing.T) {
	node := redistest.NewNode(t, redistest.NodeOptions{})
	ctx := testContext(t)
	c, err := NewClient(ctx, node.Addr, &Options{DialTimeout: unreachableDialTimeout})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, node.Kill())
	err = timedCall(t, "Dedicated", func(ctx context.Context) error {
		return c.Dedicated(ctx, func(*Conn) error { return nil })
	})
	requireDialRefused(t, err)
	assert.True(t, SafeToRetry(err), "%v", err)
}

// TestClientReportsWrongPassword: the user's password is changed on the
// server and the Client's connection killed. Calls made while the Client
// can't authenticate fail at once with the server's WRONGPASS (a
// *resp.Error), without either password in the text, and the redials back
// off: the server logs few failed authentications over three seconds of
// calls. Once the old password works again, the Client reconnects. Before,
// every call timed out at its deadline (context deadline exceeded) and ACL
// LOG counted about ten failed HELLOs in three seconds.
func TestClientReportsWrongPassword(t *testing.T) {
	const user, password, newPassword = "conn-rotated-user", "before-rotation-pw", "after-rotation-pw"
	addUser(t, user, password)
	server := redistest.Server()
	ctx := testContext(t)
	c, err := NewClient(ctx, server.Addr, &Options{Username: user, Password: password, DialTimeout: unreachableDialTimeout})
	require.NoError(t, err)
	defer c.Close()
	old := c.current.Load()

	_, err = server.Do(ctx, "ACL", "LOG", "RESET")
	require.NoError(t, err)
	_, err = server.Do(ctx, "ACL", "SETUSER", user, "reset", "on", ">"+newPassword, "~*", "&*", "+@all")
	require.NoError(t, err)
	_, err = server.Do(ctx, "CLIENT", "KILL", "USER", user)
	require.NoError(t, err)
	<-old.Done()

	checkWrongPass := func(what string, err error) {
		t.Helper()
		var re *resp.Error
		require.ErrorAs(t, err, &re, "%s: %v", what, err)
		assert.Equal(t, "WRONGPASS", re.Code)
		assert.True(t, SafeToRetry(err), "%s: %v", what, err)
		assert.NotContains(t, err.Error(), password)
		assert.NotContains(t, err.Error(), newPassword)
	}
	checkWrongPass("Do", timedCall(t, "Do", func(ctx context.Context) error {
		_, err := c.Do(ctx, "PING")
		return err
	}))
	checkWrongPass("Dedicated", timedCall(t, "Dedicated", func(ctx context.Context) error {
		return c.Dedicated(ctx, func(*Conn) error { return nil })
	}))

	// Three seconds of steady calls: they don't dial, and the redials back
	// off.
	pace := time.NewTicker(10 * time.Millisecond)
	defer pace.Stop()
	calls := 0
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); <-pace.C {
		_, err := c.Do(ctx, "PING")
		checkWrongPass("Do", err)
		calls++
	}
	failures := failedAuths(t, user)
	t.Logf("%d calls in 3 s; ACL LOG counts %d failed authentications of %s", calls, failures, user)
	assert.LessOrEqual(t, failures, 6, "the redials hammer the server")
	assert.GreaterOrEqual(t, failures, 1)

	_, err = server.Do(ctx, "ACL", "SETUSER", user, ">"+password)
	require.NoError(t, err)
	waitConnected(t, c)
	v, err := c.Do(ctx, "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", text(t, v))
}

// failedAuths sums the counts of ACL LOG's failed authentications of user.
func failedAuths(t *testing.T, user string) int {
	t.Helper()
	log, err := redistest.Server().Do(testContext(t), "ACL", "LOG")
	require.NoError(t, err)
	total := 0
	for _, entry := range log.Elems() {
		fields := map[string]resp.Value{}
		kv := entry.Elems()
		for i := 0; i+1 < len(kv); i += 2 {
			name, _ := kv[i].Text()
			fields[name] = kv[i+1]
		}
		reason, _ := fields["reason"].Text()
		name, _ := fields["username"].Text()
		if reason != "auth" || !strings.EqualFold(name, user) {
			continue
		}
		n, err := fields["count"].Int()
		require.NoError(t, err)
		total += int(n)
	}
	return total
}

// requireDialRefused checks that err carries the error of a dial to a server
// that is gone: refused, or reset, since a dial racing the kill can be
// accepted into the dying server's backlog and then reset.
func requireDialRefused(t *testing.T, err error) {
	t.Helper()
	require.True(t, errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET), "%v", err)
}
