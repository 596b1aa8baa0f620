package chaos

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

func TestTLSStandalone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := redistest.TLSServer()
	cfg := srv.TLSConfig()
	require.False(t, cfg.InsecureSkipVerify, "the harness config must verify the certificate")
	c, err := conn.NewClient(ctx, srv.Addr, &conn.Options{TLSConfig: cfg})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(ctx, "SET", "tls:k", "v")
	require.NoError(t, err)
	v, err := c.Do(ctx, "GET", "tls:k")
	require.NoError(t, err)
	s, err := v.Text()
	require.NoError(t, err)
	require.Equal(t, "v", s)
}

func TestTLSCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg, err := redistest.ClientTLSConfig()
	require.NoError(t, err)
	require.False(t, cfg.InsecureSkipVerify)
	cc, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.TLSCluster().Addrs(), Conn: conn.Options{TLSConfig: cfg}})
	require.NoError(t, err)
	defer cc.Close()
	l := NewLoad(cc, LoadOptions{Workers: 4, Prefix: "chaos:tls"})
	l.Start()
	require.Eventually(t, func() bool { return l.Calls() > 500 }, 15*time.Second, 10*time.Millisecond)
	require.True(t, l.Stop())
	s := l.Stats(Mark{})
	require.Zero(t, s.Failed, "%q", s.Errors)
	require.Zero(t, s.Crossed, "%q", s.CrossedReplies)
	require.Len(t, cc.Topology().Addrs(), 6, "every TLS node was found")
}

// TestTLSWrongCA dials with a pool holding only a CA that did not sign the
// server's certificate: the dial fails and says why.
func TestTLSWrongCA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	right, err := redistest.ClientTLSConfig()
	require.NoError(t, err)
	wrong := &tls.Config{RootCAs: x509.NewCertPool(), ServerName: right.ServerName, MinVersion: tls.VersionTLS12}

	check := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		var unknown x509.UnknownAuthorityError
		require.True(t, errors.As(err, &unknown), "error does not wrap x509.UnknownAuthorityError: %v", err)
		require.Contains(t, err.Error(), "certificate signed by unknown authority")
	}
	t.Run("conn", func(t *testing.T) {
		c, err := conn.Dial(ctx, redistest.TLSServer().Addr, &conn.Options{TLSConfig: wrong})
		if c != nil {
			c.Close()
		}
		check(t, err)
	})
	t.Run("cluster", func(t *testing.T) {
		cc, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.TLSCluster().Addrs(), Conn: conn.Options{TLSConfig: wrong}})
		if cc != nil {
			cc.Close()
		}
		check(t, err)
	})
}

// aclPassword is looked for in every error text the ACL tests collect.
const aclPassword = "chaos-S3cret-pw-4417"

func TestACL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := redistest.Server()
	require.NoError(t, srv.AddUser(ctx, "chaos-limited", aclPassword, "~allowed:*", "+@connection", "+get", "+set"))
	defer srv.Do(context.Background(), "ACL", "DELUSER", "chaos-limited")
	opts := &conn.Options{Username: "chaos-limited", Password: aclPassword}

	var texts []string
	collect := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), strings.Join(unwrapAll(err), " | "))
		}
	}

	c, err := conn.Dial(ctx, srv.Addr, opts)
	require.NoError(t, err)
	_, err = c.Do(ctx, "SET", "allowed:k", "v")
	require.NoError(t, err)

	// A key outside the user's patterns.
	_, err = c.Do(ctx, "GET", "forbidden:k")
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	require.Equal(t, "NOPERM", re.Code)
	collect(err)
	// A command outside the user's commands.
	_, err = c.Do(ctx, "DEL", "allowed:k")
	require.ErrorAs(t, err, &re)
	require.Equal(t, "NOPERM", re.Code)
	collect(err)
	// And as one reply of a DoMulti.
	vs, err := c.DoMulti(ctx, []string{"GET", "allowed:k"}, []string{"FLUSHALL"})
	require.NoError(t, err)
	require.Error(t, vs[1].Err())
	collect(vs[1].Err())

	require.NoError(t, c.Close())
	_, err = c.Do(ctx, "GET", "allowed:k")
	require.ErrorIs(t, err, conn.ErrClosed)
	collect(err)

	// A wrong password, an unknown user (the default user has no password
	// here, so AUTH with a bare password would succeed), by Dial and Client.
	for _, o := range []*conn.Options{
		{Username: "chaos-limited", Password: aclPassword + "x"},
		{Username: "nobody", Password: aclPassword},
	} {
		c, err := conn.Dial(ctx, srv.Addr, o)
		if c != nil {
			c.Close()
		}
		require.Error(t, err)
		collect(err)
		cl, err := conn.NewClient(ctx, srv.Addr, o)
		if cl != nil {
			cl.Close()
		}
		require.Error(t, err)
		collect(err)
	}
	require.NotEmpty(t, texts)
	for _, text := range texts {
		require.NotContains(t, text, aclPassword, "an error text shows the password")
		require.NotContains(t, text, aclPassword[6:], "an error text shows part of the password")
	}
	t.Logf("checked %d error texts, e.g. %q", len(texts), texts[len(texts)-1])
}

// unwrapAll lists the text of every error in err's tree.
func unwrapAll(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e.Error())
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}
