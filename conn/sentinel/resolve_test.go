package sentinel

import (
	"context"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRoleReplicaIsRefused: when the Client is told of a master that is in
// fact a replica (a stale announcement), its next dial finds ROLE slave,
// asks the sentinels again and lands on the real master: writes succeed,
// none gets READONLY.
func TestRoleReplicaIsRefused(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	c := newTestClient(t, nil)
	master, err := s.Master(ctx)
	require.NoError(t, err)
	replicas, err := s.Replicas(ctx)
	require.NoError(t, err)

	c.dir.switchTo(replicas[0].Addr) // closes the Conns to the master
	for range 20 {
		_, err := c.Do(ctx, "SET", "role-check", "1")
		require.NoError(t, err)
	}
	assert.Equal(t, master.Addr, c.MasterAddr())
}

// TestReadonlyReplyAsksAgain: a READONLY reply makes the Client ask the
// sentinels again, in the background, and move to the master they name.
func TestReadonlyReplyAsksAgain(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	c := newTestClient(t, nil)
	master, err := s.Master(ctx)
	require.NoError(t, err)

	c.dir.mu.Lock()
	c.dir.master = "127.0.0.1:1" // as if it had been demoted unannounced
	c.dir.mu.Unlock()
	c.check(&resp.Error{Code: "READONLY", Message: "READONLY You can't write against a read only replica."})
	// Polled: the background question is not signalled.
	assert.Eventually(t, func() bool { return c.MasterAddr() == master.Addr }, 10*time.Second, 5*time.Millisecond)
}

// TestSentinelAuth: sentinels and data nodes with passwords of their own.
// Options.Sentinel authenticates to the sentinels, Options.Conn to the
// master; a wrong one fails New, and no error shows a password.
func TestSentinelAuth(t *testing.T) {
	ctx := testContext(t)
	const masterPass, sentinelPass = "master-secret", "sentinel-secret"
	d := redistest.NewSentinel(t, redistest.SentinelOptions{Password: masterPass, SentinelPassword: sentinelPass})
	opts := Options{
		MasterName: d.MasterName,
		Addrs:      d.SentinelAddrs(),
		Sentinel:   conn.Options{Password: sentinelPass},
		Conn:       conn.Options{Password: masterPass},
	}
	c, err := New(ctx, &opts)
	require.NoError(t, err)
	_, err = c.Do(ctx, "SET", "auth", "1")
	require.NoError(t, err)
	require.NoError(t, c.Close())

	for name, change := range map[string]func(o *Options){
		"sentinel password":    func(o *Options) { o.Sentinel.Password = "wrong-sentinel-pass" },
		"no sentinel password": func(o *Options) { o.Sentinel.Password = "" },
		"master password":      func(o *Options) { o.Conn.Password = "wrong-master-pass" },
	} {
		t.Run(name, func(t *testing.T) {
			o := opts
			change(&o)
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			c, err := New(ctx, &o)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "a refusal is returned at once")
			for _, secret := range []string{masterPass, sentinelPass, o.Sentinel.Password, o.Conn.Password} {
				if secret != "" {
					assert.NotContains(t, err.Error(), secret)
				}
			}
			t.Log(err)
		})
	}
}

// TestSentinelTLS: sentinels and nodes that speak only TLS. The Client
// finds the master over TLS (Options.Sentinel.TLSConfig), talks to it over
// TLS (Options.Conn.TLSConfig) and follows a failover announced on a TLS
// sentinel connection.
func TestSentinelTLS(t *testing.T) {
	ctx := testContext(t)
	d := redistest.NewSentinel(t, redistest.SentinelOptions{TLS: true})
	sentinelTLS, err := redistest.ClientTLSConfig()
	require.NoError(t, err)
	nodeTLS, err := redistest.ClientTLSConfig()
	require.NoError(t, err)
	c, err := New(ctx, &Options{
		MasterName: d.MasterName,
		Addrs:      d.SentinelAddrs(),
		Sentinel:   conn.Options{TLSConfig: sentinelTLS},
		Conn:       conn.Options{TLSConfig: nodeTLS},
	})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(ctx, "SET", "tls", "1")
	require.NoError(t, err)

	moved := clientSwitches(c)
	start := time.Now()
	next, err := d.Failover(ctx)
	require.NoError(t, err)
	select {
	case at := <-moved:
		t.Logf("followed the switch %v after SENTINEL FAILOVER", at.Sub(start).Round(time.Millisecond))
	case <-ctx.Done():
		t.Fatal("the Client did not follow the switch")
	}
	assert.Equal(t, next.Addr, c.MasterAddr())
	_, err = c.Do(ctx, "SET", "tls", "2")
	require.NoError(t, err)

	// Without TLS the sentinels do not answer.
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	plain, err := New(short, &Options{MasterName: d.MasterName, Addrs: d.SentinelAddrs(), Conn: conn.Options{TLSConfig: nodeTLS}})
	require.Error(t, err)
	assert.Nil(t, plain)
}
