package conn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// addUser creates an ACL user on the package's server for one test.
func addUser(t *testing.T, name, password string) {
	t.Helper()
	ctx := testContext(t)
	_, err := redistest.Server().Do(ctx, "ACL", "SETUSER", name, "reset", "on", ">"+password, "~*", "&*", "+@all")
	require.NoError(t, err)
	t.Cleanup(func() { redistest.Server().Do(context.Background(), "ACL", "DELUSER", name) })
}

func TestHandshake(t *testing.T) {
	const user, password = "conn-handshake-user", "s3cret-conn-pw"
	addUser(t, user, password)
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+string(rune('0'+proto)), func(t *testing.T) {
			c := dialTest(t, &Options{Protocol: proto, Username: user, Password: password, ClientName: "conn-test-client", DB: 3})
			ctx := testContext(t)
			assert.Equal(t, proto, c.Protocol())

			v, err := c.Do(ctx, "ACL", "WHOAMI")
			require.NoError(t, err)
			assert.Equal(t, user, text(t, v))
			v, err = c.Do(ctx, "CLIENT", "GETNAME")
			require.NoError(t, err)
			assert.Equal(t, "conn-test-client", text(t, v))
			v, err = c.Do(ctx, "CLIENT", "INFO")
			require.NoError(t, err)
			info := strings.Fields(text(t, v))
			assert.Contains(t, info, "db=3")
			assert.Contains(t, info, "resp="+string(rune('0'+proto)))

			v, err = c.Do(ctx, "HGETALL", "conn:handshake:nohash")
			require.NoError(t, err)
			if proto == 3 {
				assert.Equal(t, resp.Map, v.Kind())
			} else {
				assert.Equal(t, resp.Array, v.Kind())
			}
		})
	}
}

func TestHandshakeSelect(t *testing.T) {
	ctx := testContext(t)
	db3 := dialTest(t, &Options{DB: 3})
	db0 := dialTest(t, nil)
	_, err := db3.Do(ctx, "SET", "conn:handshake:db", "in 3")
	require.NoError(t, err)
	v, err := db0.Do(ctx, "GET", "conn:handshake:db")
	require.NoError(t, err)
	assert.True(t, v.IsNull(), "a key set in DB 3 is in DB 0: %v", v)
	v, err = db3.Do(ctx, "GET", "conn:handshake:db")
	require.NoError(t, err)
	assert.Equal(t, "in 3", text(t, v))

	_, err = Dial(ctx, redistest.Server().Addr, &Options{DB: 100000})
	var re *resp.Error
	assert.ErrorAs(t, err, &re, "an out-of-range DB fails the handshake")
}

func TestHandshakeWrongPassword(t *testing.T) {
	const user, password, wrong = "conn-wrongpass-user", "right-pw-123", "wrong-pw-xyz-789"
	addUser(t, user, password)
	for _, opts := range []*Options{
		{Username: user, Password: wrong},
		{Username: user, Password: wrong, Protocol: 2},
	} {
		_, err := Dial(testContext(t), redistest.Server().Addr, opts)
		var re *resp.Error
		require.ErrorAs(t, err, &re, "protocol %d", opts.Protocol)
		assert.Equal(t, "WRONGPASS", re.Code)
		assert.NotContains(t, err.Error(), wrong, "the password leaked into the error")
		assert.True(t, strings.HasPrefix(err.Error(), "conn: "), err.Error())
	}
}

func TestHandshakeRequirePass(t *testing.T) {
	n := redistest.NewNode(t, redistest.NodeOptions{Password: "node-pw-456"})
	ctx := testContext(t)
	for _, proto := range []int{2, 3} {
		c := dialNode(t, n, &Options{Password: "node-pw-456", Protocol: proto})
		v, err := c.Do(ctx, "ACL", "WHOAMI")
		require.NoError(t, err)
		assert.Equal(t, "default", text(t, v))
	}
	_, err := Dial(ctx, n.Addr, nil)
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "NOAUTH", re.Code)

	for _, proto := range []int{2, 3} {
		_, err := Dial(ctx, n.Addr, &Options{Password: "not-the-node-pw", Protocol: proto})
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "WRONGPASS", re.Code)
		assert.NotContains(t, err.Error(), "not-the-node-pw")
	}
}

func TestHandshakeTLS(t *testing.T) {
	n := redistest.NewNode(t, redistest.NodeOptions{TLS: true})
	ctx := testContext(t)
	c := dialNode(t, n, &Options{TLSConfig: n.TLSConfig()})
	v, err := c.Do(ctx, "ECHO", "over tls")
	require.NoError(t, err)
	assert.Equal(t, "over tls", text(t, v))
	assert.Equal(t, 3, c.Protocol())

	_, err = Dial(ctx, n.Addr, nil)
	assert.Error(t, err, "a TLS server refuses plain RESP")
	_, err = Dial(ctx, redistest.Server().Addr, &Options{TLSConfig: n.TLSConfig(), DialTimeout: 200 * time.Millisecond})
	assert.ErrorContains(t, err, "conn: TLS handshake", "a plain server fails the TLS handshake")
}

func TestHandshakeFallsBackToRESP2(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refusal fakeserver.Step
	}{
		{"unknown command", fakeserver.RefuseHello()},
		{"NOPROTO", fakeserver.Do("refuse HELLO with NOPROTO", func(c *fakeserver.Conn) error {
			if _, err := c.Next(); err != nil {
				return err
			}
			return c.Reply(resp.NewSimpleError("NOPROTO sorry, this protocol version is not supported"))
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeserver.Start(t).Script(
				tc.refusal,
				fakeserver.Expect("SELECT", "2"),
				fakeserver.Reply(resp.NewSimpleError("NOAUTH Authentication required.")),
				fakeserver.Expect("AUTH", "pw"),
				fakeserver.Reply(resp.NewSimpleString("OK")),
				fakeserver.Expect("CLIENT", "SETNAME", "old"),
				fakeserver.Reply(resp.NewSimpleString("OK")),
				fakeserver.Expect("SELECT", "2"),
				fakeserver.Reply(resp.NewSimpleString("OK")),
				fakeserver.Expect("GET", "k"),
				fakeserver.Reply(resp.NewBulkString("v")),
			)
			c, err := Dial(testContext(t), s.Addr(), &Options{Password: "pw", ClientName: "old", DB: 2})
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, 2, c.Protocol())
			v, err := c.Do(testContext(t), "GET", "k")
			require.NoError(t, err)
			assert.Equal(t, "v", text(t, v))
		})
	}
}

func TestHandshakeBoundByContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := fakeserver.Start(t).Script(
		fakeserver.Expect("HELLO", "3"),
		fakeserver.Stall(release),
	)
	ctx, cancel := context.WithTimeout(testContext(t), 100*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, s.Addr(), nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	s.Script(fakeserver.Expect("HELLO", "3"), fakeserver.Stall(release))
	_, err = Dial(testContext(t), s.Addr(), &Options{DialTimeout: 100 * time.Millisecond})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestOptionsProtocolChecked(t *testing.T) {
	_, err := Dial(testContext(t), redistest.Server().Addr, &Options{Protocol: 4})
	assert.ErrorContains(t, err, "conn: Options.Protocol is 4")
}
