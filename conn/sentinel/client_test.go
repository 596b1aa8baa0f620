package sentinel

import (
	"context"
	"testing"
	"time"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDiscoveryWithOneSentinelDown: with the first sentinel killed, the
// others answer; the Client finds the master, checks it and works, and it
// knows every sentinel, the killed one included.
func TestDiscoveryWithOneSentinelDown(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	resetAfter(t)
	require.NoError(t, s.Sentinels[0].Kill())

	start := time.Now()
	c := newTestClient(t, nil)
	t.Logf("discovered %s in %v with %s down", c.MasterAddr(), time.Since(start).Round(time.Microsecond), s.Sentinels[0])
	master, err := s.Master(ctx)
	require.NoError(t, err)
	assert.Equal(t, master.Addr, c.MasterAddr())
	_, err = c.Do(ctx, "SET", "discovery", "1")
	require.NoError(t, err)
	v, err := c.Do(ctx, "GET", "discovery")
	require.NoError(t, err)
	got, _ := v.Text()
	assert.Equal(t, "1", got)
	assert.ElementsMatch(t, s.SentinelAddrs(), c.Sentinels())
}

// TestDiscoveryLearnsTheOtherSentinels: given one sentinel, the Client
// learns the other two from SENTINEL SENTINELS.
func TestDiscoveryLearnsTheOtherSentinels(t *testing.T) {
	s := redistest.Sentinel()
	c := newTestClient(t, &Options{MasterName: s.MasterName, Addrs: s.SentinelAddrs()[1:2]})
	// Polled: nothing signals the discovery.
	assert.Eventually(t, func() bool { return len(c.Sentinels()) >= len(s.Sentinels) }, 10*time.Second, 10*time.Millisecond)
	assert.ElementsMatch(t, s.SentinelAddrs(), c.Sentinels())
}

// TestDiscoveryErrors: what New says when it can't find a master.
func TestDiscoveryErrors(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	for _, tc := range []struct {
		name string
		opts *Options
		want string
	}{
		{"nil options", nil, "sentinel: New: nil Options"},
		{"no name", &Options{Addrs: s.SentinelAddrs()}, "sentinel: Options.MasterName is empty"},
		{"no sentinels", &Options{MasterName: s.MasterName}, "sentinel: Options.Addrs names no sentinel"},
		{"unknown master", &Options{MasterName: "nosuchmaster", Addrs: s.SentinelAddrs()}, `does not know master "nosuchmaster"`},
		// The dial's own error says why: refused, or (on a machine so loaded
		// that a refusal comes back after the per-question timeout) a timeout.
		{"nothing listens", &Options{MasterName: s.MasterName, Addrs: []string{"127.0.0.1:1"}}, "dial 127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			c, err := New(ctx, tc.opts)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestCloseIsIdempotent: Close from many goroutines at once tears down
// once; calls after it fail with conn.ErrClosed.
func TestCloseIsIdempotent(t *testing.T) {
	c := newTestClient(t, nil)
	done := make(chan error, 8)
	for range 8 {
		go func() { done <- c.Close() }()
	}
	for range 8 {
		require.NoError(t, <-done)
	}
	_, err := c.Do(testContext(t), "PING")
	require.Error(t, err)
	_, err = c.DialMaster(testContext(t), nil)
	require.ErrorContains(t, err, "client closed")
}
