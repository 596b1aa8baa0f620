package redistest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

func TestServerAnswers(t *testing.T) {
	ctx := context.Background()
	n := Server()
	v, err := n.Do(ctx, "SET", "redistest:k", "v")
	require.NoError(t, err)
	assert.Equal(t, "OK", must(v.Text()))
	v, err = n.Do(ctx, "GET", "redistest:k")
	require.NoError(t, err)
	assert.Equal(t, "v", must(v.Text()))

	_, err = n.Do(ctx, "NOSUCHCOMMAND")
	var respErr *resp.Error
	require.ErrorAs(t, err, &respErr)
	assert.Equal(t, "ERR", respErr.Code)

	cfg, err := n.Do(ctx, "CONFIG", "GET", "save")
	require.NoError(t, err)
	assert.Equal(t, "", must(cfg.Elems()[1].Text()), "persistence must be off")
}

func TestStopLeavesNothing(t *testing.T) {
	n, err := StartNode(NodeOptions{})
	require.NoError(t, err)
	pid, dir := n.PID(), n.Dir()
	require.NotZero(t, pid)
	require.NoError(t, syscall.Kill(pid, 0), "the server should run")
	require.Contains(t, leftoverServers(), pid, "teardown's check finds a running server")

	require.NoError(t, n.Stop())
	require.NoError(t, n.Stop(), "Stop twice is a no-op")
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "the server process should be gone")
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "the directory should be removed")
	assert.NotContains(t, leftoverServers(), pid)
	assert.Error(t, n.Restart(context.Background()), "a stopped node cannot restart")
}

func TestKillRestartStandalone(t *testing.T) {
	ctx := context.Background()
	n := NewNode(t, NodeOptions{Config: []string{"maxmemory 10mb"}})
	port, pid := n.Port, n.PID()
	require.NoError(t, n.Kill())
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH)
	assert.False(t, n.Running())
	_, err := n.Do(ctx, "PING")
	assert.Error(t, err, "a killed server must not answer")

	require.NoError(t, n.Restart(ctx))
	assert.Equal(t, port, n.Port)
	assert.NotEqual(t, pid, n.PID())
	v, err := n.Do(ctx, "CONFIG", "GET", "maxmemory")
	require.NoError(t, err)
	assert.Equal(t, "10485760", must(v.Elems()[1].Text()), "same configuration after restart")
}

func TestLogTail(t *testing.T) {
	n := NewNode(t, NodeOptions{})
	tail := n.LogTail(300)
	assert.LessOrEqual(t, len(tail), 300)
	assert.Contains(t, tail, "Ready to accept connections")
	ext, err := externalNode(context.Background(), n.Addr)
	require.NoError(t, err)
	assert.Empty(t, ext.LogTail(300))
}

func TestPauseResume(t *testing.T) {
	n := NewNode(t, NodeOptions{})
	require.NoError(t, n.Pause())
	assert.False(t, n.Running())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := n.Do(ctx, "PING")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a paused server must not answer")

	require.NoError(t, n.Resume())
	assert.True(t, n.Running())
	_, err = n.Do(context.Background(), "PING")
	assert.NoError(t, err)
}

func TestPassword(t *testing.T) {
	ctx := context.Background()
	const password = `s3cret "pass" \ é`
	n := NewNode(t, NodeOptions{Password: password})
	_, err := n.Do(ctx, "PING")
	require.NoError(t, err, "Do authenticates")

	c := dialRaw(t, n.Addr, nil)
	_, err = c.do("PING")
	assert.ErrorContains(t, err, "NOAUTH")
	_, err = c.do("AUTH", "wrong")
	assert.Error(t, err)
	_, err = c.do("AUTH", password)
	assert.NoError(t, err)
}

func TestAddUser(t *testing.T) {
	ctx := context.Background()
	n := NewNode(t, NodeOptions{})
	require.NoError(t, n.AddUser(ctx, "reader", "pw1", "~app:*", "+get", "+ping"))
	require.NoError(t, n.AddUser(ctx, "admin", "pw2"))

	c := dialRaw(t, n.Addr, nil)
	_, err := c.do("AUTH", "reader", "pw1")
	require.NoError(t, err)
	_, err = c.do("GET", "app:x")
	assert.NoError(t, err)
	_, err = c.do("SET", "app:x", "1")
	assert.ErrorContains(t, err, "NOPERM")
	_, err = c.do("GET", "other")
	assert.ErrorContains(t, err, "NOPERM")

	_, err = c.do("AUTH", "admin", "pw2")
	require.NoError(t, err)
	_, err = c.do("SET", "other", "1")
	assert.NoError(t, err)

	err = n.AddUser(ctx, "bad", "topsecret", "+nosuchcommand")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "topsecret")
}

func TestClients(t *testing.T) {
	ctx := context.Background()
	n := NewNode(t, NodeOptions{})
	c := dialRaw(t, n.Addr, nil)
	_, err := c.do("CLIENT", "SETNAME", "watched")
	require.NoError(t, err)

	clients, err := n.Clients(ctx)
	require.NoError(t, err)
	var names, cmds []string
	for _, ci := range clients {
		names = append(names, ci.Name)
		cmds = append(cmds, ci.Cmd)
		assert.NotZero(t, ci.ID)
		assert.Equal(t, "default", ci.User)
		assert.Contains(t, ci.Fields, "laddr")
	}
	assert.Contains(t, names, "watched")
	assert.Contains(t, cmds, "client|list")
}

func TestTLSNode(t *testing.T) {
	ctx := context.Background()
	n := TLSServer()
	_, err := n.Do(ctx, "PING")
	require.NoError(t, err, "Do speaks TLS to a TLS node")
	assert.Nil(t, Server().TLSConfig(), "a plain node has no TLS configuration")

	cfg := n.TLSConfig()
	require.NotNil(t, cfg)
	c := dialRaw(t, n.Addr, cfg)
	v, err := c.do("PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", must(v.Text()))

	// Without the client certificate: tls-auth-clients is optional.
	cfg.Certificates = nil
	c = dialRaw(t, n.Addr, cfg)
	_, err = c.do("PING")
	assert.NoError(t, err)

	ca, err := CACertificate()
	require.NoError(t, err)
	tc, err := tls.Dial("tcp", n.Addr, n.TLSConfig())
	require.NoError(t, err)
	chain := tc.ConnectionState().VerifiedChains[0]
	assert.True(t, chain[len(chain)-1].Equal(ca), "the server's chain ends at CACertificate")
	tc.Close()

	other, err := newCA("someone else")
	require.NoError(t, err)
	wrong := n.TLSConfig()
	wrong.RootCAs = x509.NewCertPool()
	wrong.RootCAs.AddCert(other.cert)
	_, err = tls.Dial("tcp", n.Addr, wrong)
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown, "a client that does not trust the harness CA must fail")

	plain, err := net.Dial("tcp", n.Addr)
	require.NoError(t, err)
	defer plain.Close()
	plain.SetDeadline(time.Now().Add(2 * time.Second))
	_, err = plain.Write(resp.AppendCommand(nil, "PING"))
	require.NoError(t, err)
	_, err = resp.NewReader(plain).Read()
	assert.Error(t, err, "plain RESP must not work on a TLS-only port")
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := lookupServer()
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "apt-get install redis-server"), err.Error())
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDirOnTmpfs: without TMPDIR a server's directory (its nodes.conf or
// sentinel config, fsynced in its event loop) is on /dev/shm where it exists;
// TMPDIR, when set, is obeyed.
func TestDirOnTmpfs(t *testing.T) {
	t.Setenv("TMPDIR", "")
	n := NewNode(t, NodeOptions{})
	want := os.TempDir()
	if info, err := os.Stat(shmDir); err == nil && info.IsDir() {
		want = shmDir
	}
	assert.Equal(t, want, filepath.Dir(n.Dir()))

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	m := NewNode(t, NodeOptions{})
	assert.Equal(t, tmp, filepath.Dir(m.Dir()))
}
