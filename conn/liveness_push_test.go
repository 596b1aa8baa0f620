package conn

import (
	"testing"
	"time"

	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSlowOnPushIsNotSilence: while OnPush holds the reader goroutine, the
// Conn reads nothing although it owes a reply. That is the application's
// backpressure, not a silent connection: the Conn stays open, and the reply
// arrives once OnPush returns.
func TestSlowOnPushIsNotSilence(t *testing.T) {
	ctx := testContext(t)
	const silence = 50 * time.Millisecond
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	cn := dialTest(t, &Options{SilenceTimeout: silence, OnPush: func(resp.Value) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	}})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	k := clientKey(t, "slow-onpush")
	_, err := cn.Do(ctx, "CLIENT", "TRACKING", "ON")
	require.NoError(t, err)
	_, err = cn.Do(ctx, "GET", k)
	require.NoError(t, err)
	_, err = newTestConn(t).Do(ctx, "SET", k, "v") // an invalidation push for cn
	require.NoError(t, err)
	<-entered

	ping := make(chan error, 1)
	go func() {
		v, err := cn.Do(ctx, "PING")
		if err == nil {
			if s, _ := v.Text(); s != "PONG" {
				err = assert.AnError
			}
		}
		ping <- err
	}()
	select {
	case <-cn.Done():
		t.Fatalf("the Conn closed while OnPush held its reader: %v", cn.Err())
	case <-time.After(20 * silence): // many silence windows, each probed
	}
	close(release)
	require.NoError(t, <-ping)
	assert.Equal(t, StateOpen, cn.State())
}
