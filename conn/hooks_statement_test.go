package conn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatementRedaction: the secrets of every command that carries one are
// shown as "?", whatever the case the command is written in; other
// arguments, CLIENT SETNAME's name among them, are shown as they are.
func TestStatementRedaction(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"GET", "k"}, "GET k"},
		{[]string{"AUTH", "pw"}, "AUTH ?"},
		{[]string{"auth", "user", "pw"}, "auth ? ?"},
		{[]string{"HELLO", "3", "AUTH", "user", "pw", "SETNAME", "app"}, "HELLO 3 AUTH ? ? SETNAME app"},
		{[]string{"hello", "3", "setname", "app", "auth", "u", "p"}, "hello 3 setname app auth ? ?"},
		{[]string{"MIGRATE", "h", "6379", "", "0", "5000", "AUTH", "pw", "KEYS", "a", "b"}, "MIGRATE h 6379  0 5000 AUTH ? KEYS a b"},
		{[]string{"MIGRATE", "h", "6379", "k", "0", "5000", "COPY", "AUTH2", "u", "p"}, "MIGRATE h 6379 k 0 5000 COPY AUTH2 ? ?"},
		{[]string{"CONFIG", "SET", "requirepass", "pw"}, "CONFIG SET requirepass ?"},
		{[]string{"config", "set", "maxmemory", "1mb", "MasterAuth", "pw"}, "config set maxmemory 1mb MasterAuth ?"},
		{[]string{"CONFIG", "SET", "tls-key-file-pass", "pw"}, "CONFIG SET tls-key-file-pass ?"},
		{[]string{"CONFIG", "GET", "requirepass"}, "CONFIG GET requirepass"},
		{[]string{"ACL", "SETUSER", "alice", "on", ">pw", "#hash", "~*"}, "ACL SETUSER alice ? ? ? ?"},
		{[]string{"ACL", "WHOAMI"}, "ACL WHOAMI"},
		{[]string{"SENTINEL", "SET", "m", "auth-pass", "pw"}, "SENTINEL SET m auth-pass ?"},
		{[]string{"CLIENT", "SETNAME", "app"}, "CLIENT SETNAME app"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, statement(stringArgs(tt.args)), "%q", tt.args)
		cmd := Cmd(tt.args[0], tt.args[1:]...)
		assert.Equal(t, tt.want, statement(commandArgs(&cmd)), "as a Command: %q", tt.args)
	}
	cmd := Cmd("SET", "k").Int(-12).Float(1.5)
	assert.Equal(t, "SET k -12 1.5", statement(commandArgs(&cmd)))
	assert.Equal(t, "GET a\nAUTH ?", pipelineStatement(2, func(i int) argList {
		return stringArgs([][]string{{"GET", "a"}, {"AUTH", "pw"}}[i])
	}))
}

// TestStatementCut: a statement is cut at StatementMax bytes, never inside
// a character.
func TestStatementCut(t *testing.T) {
	long := strings.Repeat("x", 2*StatementMax)
	s := statement(stringArgs([]string{"SET", "k", long}))
	assert.Len(t, s, StatementMax)
	assert.True(t, strings.HasPrefix(s, "SET k xxx"))

	// "é" is two bytes: one that would straddle the cut is left out.
	s = statement(stringArgs([]string{"SET", strings.Repeat("a", StatementMax-6), "é"}))
	assert.Equal(t, StatementMax-1, len(s))
	many := make([][]string, 500)
	for i := range many {
		many[i] = []string{"GET", "key"}
	}
	s = pipelineStatement(len(many), func(i int) argList { return stringArgs(many[i]) })
	assert.Len(t, s, StatementMax)
}

// TestHooksStatement: with Statement on, events hold the command text,
// with AUTH's and HELLO's secrets redacted, on a real server that refuses
// them.
func TestHooksStatement(t *testing.T) {
	var rec hookRecorder
	h := rec.hooks()
	h.Statement = true
	c := dialTest(t, &Options{Hooks: h})
	ctx := testContext(t)
	const secret = "statement-secret-pw"

	_, err := c.Do(ctx, "GET", clientKey(t, "k"))
	require.NoError(t, err)
	assert.Equal(t, "GET "+clientKey(t, "k"), rec.lastCommand(t).Statement)
	_, err = c.Do(ctx, "AUTH", "nobody-here", secret)
	require.Error(t, err)
	assert.Equal(t, "AUTH ? ?", rec.lastCommand(t).Statement)
	_, err = c.Do(ctx, "HELLO", "3", "AUTH", "nobody-here", secret)
	require.Error(t, err)
	assert.Equal(t, "HELLO 3 AUTH ? ?", rec.lastCommand(t).Statement)
	_, err = c.DoMulti(ctx, []string{"PING"}, []string{"AUTH", secret})
	require.NoError(t, err)
	rec.mu.Lock()
	assert.Equal(t, "PING\nAUTH ?", rec.pipelines[0].Statement)
	for _, s := range rec.texts {
		assert.NotContains(t, s, secret)
	}
	rec.mu.Unlock()
}
