package conn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// TestLoggerAndHooksNeverShowPasswords: a session of an ACL user whose
// password is rotated, with redials, a WRONGPASS, a refused Reauthenticate
// and a dedicated Conn, recorded by a Logger at Debug and by every hook
// (Statement on). The lifecycle is logged at the levels Options.Logger
// promises, nothing per command, and no log record or event, formatted with
// %+v, holds any of the passwords.
func TestLoggerAndHooksNeverShowPasswords(t *testing.T) {
	const user = "conn-logger-user"
	const pw1, pw2, pw3, wrong = "logger-first-pw-91", "logger-second-pw-92", "logger-third-pw-93", "logger-wrong-pw-94"
	addUser(t, user, pw1)
	server := redistest.Server()
	ctx := testContext(t)
	var rec hookRecorder
	var logs logRecorder
	hooks := rec.hooks()
	hooks.Statement = true
	provider := &rotatingPassword{user: user, password: pw1}
	c, err := NewClient(ctx, server.Addr, &Options{
		Credentials: provider.credentials, DialTimeout: unreachableDialTimeout,
		Hooks: hooks, Logger: logs.logger(),
	})
	require.NoError(t, err)
	defer c.Close()
	k := clientKey(t, "k")
	_, err = c.Do(ctx, "SET", k, "v")
	require.NoError(t, err)
	require.NoError(t, c.Reauthenticate(ctx))
	assert.NotContains(t, logs.String(), "SET", "nothing is logged per command")

	// Rotation with overlap, then a redial.
	_, err = server.Do(ctx, "ACL", "SETUSER", user, ">"+pw2)
	require.NoError(t, err)
	provider.set(pw2)
	_, err = server.Do(ctx, "ACL", "SETUSER", user, "<"+pw1)
	require.NoError(t, err)
	killUser(t, c, user)
	waitConnected(t, c)
	require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
		_, err := cn.Do(ctx, "GET", k)
		return err
	}))

	// The server moves on before the provider: WRONGPASS until it knows.
	_, err = server.Do(ctx, "ACL", "SETUSER", user, "resetpass", ">"+pw3)
	require.NoError(t, err)
	provider.set(wrong)
	killUser(t, c, user)
	_, err = c.Do(ctx, "GET", k)
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "WRONGPASS", re.Code)
	provider.set(pw3)
	waitConnected(t, c)
	provider.set(wrong)
	// The refused Reauthenticate drops the idle dedicated Conns, so the
	// next Dedicated dials, and is refused.
	require.Error(t, c.Reauthenticate(ctx), "AUTH with the wrong password is refused")
	err = c.Dedicated(ctx, func(*Conn) error { return nil })
	require.ErrorAs(t, err, &re, "a dedicated Conn's dial is refused")
	require.NoError(t, c.Close())

	out := logs.String()
	t.Logf("log:\n%s", out)
	assert.Contains(t, out, `level=WARN msg="conn: connection lost"`)
	assert.Contains(t, out, `level=WARN msg="conn: redialled"`)
	assert.Contains(t, out, `level=WARN msg="conn: redial failed"`)
	assert.Contains(t, out, "WRONGPASS")
	assert.Contains(t, out, `level=WARN msg="conn: dial failed"`)
	assert.Contains(t, out, `level=DEBUG msg="conn: connection closed"`)
	assert.NotContains(t, out, "level=ERROR")

	rec.mu.Lock()
	texts := append([]string{out}, rec.texts...)
	var auths int
	for _, e := range rec.commands {
		if strings.EqualFold(e.Name, "AUTH") {
			auths++
			assert.Equal(t, "AUTH ? ?", e.Statement)
		}
	}
	rec.mu.Unlock()
	assert.Equal(t, 2, auths, "both Reauthenticates are reported, redacted")
	assert.Greater(t, len(texts), 20)
	for _, s := range texts {
		for _, pw := range []string{pw1, pw2, pw3, wrong} {
			assert.NotContains(t, s, pw)
		}
	}
}
