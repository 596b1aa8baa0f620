package conn

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// rotatingPassword is a credentials provider whose password a test
// changes, and which counts how often it was asked.
type rotatingPassword struct {
	user string

	mu       sync.Mutex
	password string
	asked    int
}

func (p *rotatingPassword) credentials(ctx context.Context) (string, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked++
	return p.user, p.password, nil
}

func (p *rotatingPassword) set(password string) {
	p.mu.Lock()
	p.password = password
	p.mu.Unlock()
}

func (p *rotatingPassword) timesAsked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.asked
}

// TestClientRotatingCredentials: the user's password is rotated on the
// server the way a secrets manager does it (the new one added, the
// provider switched, the old one removed) and the Client's connections are
// killed. The redial asks Credentials again and authenticates with the new
// password; so does a dedicated Conn. Then the password is changed on the
// server before the provider knows: calls fail with WRONGPASS, holding
// neither password; once the provider has the new one, a redial (after a
// WRONGPASS) asks it again and the Client is back.
func TestClientRotatingCredentials(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			user := "conn-rotating-user-" + strconv.Itoa(proto)
			const pw1, pw2, pw3 = "rotation-first-pw", "rotation-second-pw", "rotation-third-pw"
			addUser(t, user, pw1)
			server := redistest.Server()
			ctx := testContext(t)
			provider := &rotatingPassword{user: user, password: pw1}
			c, err := NewClient(ctx, server.Addr, &Options{
				Protocol: proto, Credentials: provider.credentials, DialTimeout: unreachableDialTimeout,
			})
			require.NoError(t, err)
			defer c.Close()
			whoami := func(do func(context.Context, ...string) (resp.Value, error)) string {
				t.Helper()
				v, err := do(ctx, "ACL", "WHOAMI")
				require.NoError(t, err)
				return text(t, v)
			}
			assert.Equal(t, user, whoami(c.Do))
			assert.Equal(t, 1, provider.timesAsked())

			// Rotation with overlap: the Client picks the new password up
			// at its next dial.
			_, err = server.Do(ctx, "ACL", "SETUSER", user, ">"+pw2)
			require.NoError(t, err)
			provider.set(pw2)
			_, err = server.Do(ctx, "ACL", "SETUSER", user, "<"+pw1)
			require.NoError(t, err)
			killUser(t, c, user)
			waitConnected(t, c)
			assert.Equal(t, user, whoami(c.Do))
			require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
				assert.Equal(t, user, whoami(cn.Do))
				return nil
			}))
			asked := provider.timesAsked()
			assert.GreaterOrEqual(t, asked, 3, "the redial and the dedicated Conn ask the provider")

			// The server moves on before the provider does.
			_, err = server.Do(ctx, "ACL", "SETUSER", user, "resetpass", ">"+pw3)
			require.NoError(t, err)
			killUser(t, c, user)
			_, err = c.Do(ctx, "PING")
			var re *resp.Error
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "WRONGPASS", re.Code)
			assert.True(t, SafeToRetry(err), "%v", err)
			for _, pw := range []string{pw1, pw2, pw3} {
				assert.NotContains(t, err.Error(), pw)
			}
			provider.set(pw3)
			waitConnected(t, c)
			assert.Equal(t, user, whoami(c.Do))
			assert.Greater(t, provider.timesAsked(), asked, "asked again after WRONGPASS")
		})
	}
}

// killUser kills every connection of user and waits until c's shared Conn
// has noticed.
func killUser(t *testing.T, c *Client, user string) {
	t.Helper()
	old := c.current.Load()
	_, err := redistest.Server().Do(testContext(t), "CLIENT", "KILL", "USER", user)
	require.NoError(t, err)
	<-old.Done()
}

// TestDialCredentialsError: a provider that fails fails the dial with its
// error, wrapped and named; nothing is sent.
func TestDialCredentialsError(t *testing.T) {
	errVault := errors.New("vault sealed")
	_, err := Dial(testContext(t), redistest.Server().Addr, &Options{
		Credentials: func(context.Context) (string, string, error) { return "", "", errVault },
	})
	require.ErrorIs(t, err, errVault)
	assert.ErrorContains(t, err, "conn: credentials for "+redistest.Server().Addr+": vault sealed")

	// Credentials takes the place of Username and Password.
	const user, password = "conn-credentials-user", "provided-pw"
	addUser(t, user, password)
	c, err := Dial(testContext(t), redistest.Server().Addr, &Options{
		Username: "nobody", Password: "not-this-one",
		Credentials: func(context.Context) (string, string, error) { return user, password, nil },
	})
	require.NoError(t, err)
	defer c.Close()
	v, err := c.Do(testContext(t), "ACL", "WHOAMI")
	require.NoError(t, err)
	assert.Equal(t, user, text(t, v))
}

// TestClientReauthenticate: Reauthenticate sends AUTH with what the
// provider answers now on the live shared Conn, which is not redialled: the
// provider moves the Client to a second user and ACL WHOAMI on the same Conn
// says so. A provider answer the server refuses returns WRONGPASS, without
// the password, and leaves the Conn authenticated as before.
func TestClientReauthenticate(t *testing.T) {
	const first, second, pw = "conn-reauth-first", "conn-reauth-second", "reauth-pw-77"
	addUser(t, first, pw)
	addUser(t, second, pw)
	ctx := testContext(t)
	provider := &rotatingPassword{user: first, password: pw}
	c, err := NewClient(ctx, redistest.Server().Addr, &Options{Credentials: provider.credentials})
	require.NoError(t, err)
	defer c.Close()
	shared := c.current.Load()
	whoami := func() string {
		t.Helper()
		v, err := c.Do(ctx, "ACL", "WHOAMI")
		require.NoError(t, err)
		return text(t, v)
	}
	assert.Equal(t, first, whoami())

	provider.mu.Lock()
	provider.user = second
	provider.mu.Unlock()
	require.NoError(t, c.Reauthenticate(ctx))
	assert.Equal(t, second, whoami())
	assert.Same(t, shared, c.current.Load(), "reauthenticated in place, not redialled")

	provider.set("not-the-password-123")
	err = c.Reauthenticate(ctx)
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "WRONGPASS", re.Code)
	assert.NotContains(t, err.Error(), "not-the-password-123")
	assert.Equal(t, second, whoami(), "a refused AUTH leaves the Conn as it was")
	assert.Same(t, shared, c.current.Load())
}
