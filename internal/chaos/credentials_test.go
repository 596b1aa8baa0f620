package chaos

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
)

// secretStore stands for a secrets manager: conn.Options.Credentials reads
// the current password from it, and it counts how often it was asked.
type secretStore struct {
	user string

	mu       sync.Mutex
	password string
	asked    int
}

func (s *secretStore) credentials(context.Context) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	return s.user, s.password, nil
}

func (s *secretStore) rotate(password string) {
	s.mu.Lock()
	s.password = password
	s.mu.Unlock()
}

func (s *secretStore) timesAsked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked
}

// TestCredentialsRotateEverywhere: one Credentials provider authenticates
// a cluster client's connection to every node and the pub/sub connections
// of a standalone Subscriber and of a cluster one. The password is rotated
// on every server (the new one added, the provider switched, the old one
// removed) and every connection of the user killed: cluster calls,
// standalone and sharded subscriptions all come back, on connections that
// asked the provider again, and no error text shows a password.
func TestCredentialsRotateEverywhere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const user, pw1, pw2 = "chaos-rotating", "chaos-rotate-first-pw", "chaos-rotate-second-pw"
	standalone := redistest.Server()
	nodes := append(redistest.Cluster().Nodes(), standalone)
	for _, n := range nodes {
		require.NoError(t, n.AddUser(ctx, user, pw1))
	}
	defer func() {
		for _, n := range nodes {
			n.Do(context.Background(), "ACL", "DELUSER", user)
		}
	}()
	store := &secretStore{user: user, password: pw1}
	opts := conn.Options{Credentials: store.credentials, DialTimeout: time.Second}

	cc, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs(), Conn: opts})
	require.NoError(t, err)
	defer cc.Close()
	sub, err := pubsub.New(ctx, standalone.Addr, &opts)
	require.NoError(t, err)
	defer sub.Close()
	shardSub, err := pubsub.NewCluster(ctx, cc)
	require.NoError(t, err)
	defer shardSub.Close()
	require.NoError(t, sub.Subscribe(ctx, "chaos:rotate:ch"))
	require.NoError(t, shardSub.SSubscribe(ctx, "chaos:rotate:shard"))

	keys := make([]string, 32) // over all three masters
	for i := range keys {
		keys[i] = "chaos:rotate:" + strconv.Itoa(i)
	}
	var errs []error
	roundTrip := func() {
		t.Helper()
		for _, k := range keys {
			_, err := cc.Do(ctx, "SET", k, k)
			require.NoError(t, err)
			v, err := cc.Do(ctx, "GET", k)
			require.NoError(t, err)
			s, _ := v.Text()
			require.Equal(t, k, s)
		}
		waitMessage(ctx, t, sub.Messages(), "chaos:rotate:ch", func() error {
			_, err := standalone.Do(ctx, "PUBLISH", "chaos:rotate:ch", "hello")
			return err
		})
		waitMessage(ctx, t, shardSub.Messages(), "chaos:rotate:shard", func() error {
			_, err := cc.Do(ctx, "SPUBLISH", "chaos:rotate:shard", "hello")
			errs = append(errs, err)
			return nil
		})
	}
	roundTrip()
	before := store.timesAsked()
	assert.GreaterOrEqual(t, before, 5, "three masters and two subscribers' connections")

	for _, n := range nodes {
		_, err := n.Do(ctx, "ACL", "SETUSER", user, ">"+pw2)
		require.NoError(t, err)
	}
	store.rotate(pw2)
	for _, n := range nodes {
		_, err := n.Do(ctx, "ACL", "SETUSER", user, "<"+pw1)
		require.NoError(t, err)
		_, err = n.Do(ctx, "CLIENT", "KILL", "USER", user)
		require.NoError(t, err)
	}
	// Calls that met a killed connection may fail once; then everything
	// works on connections authenticated with the new password.
	require.Eventually(t, func() bool {
		_, err := cc.Do(ctx, "GET", keys[0])
		errs = append(errs, err)
		return err == nil
	}, 20*time.Second, 5*time.Millisecond)
	roundTrip()
	after := store.timesAsked()
	t.Logf("the provider was asked %d times before the rotation, %d after", before, after-before)
	assert.Greater(t, after, before+3, "the redials asked for the new password")

	for _, err := range errs {
		if err == nil {
			continue
		}
		for _, text := range unwrapAll(err) {
			assert.NotContains(t, text, pw1)
			assert.NotContains(t, text, pw2)
		}
	}
}

// waitMessage publishes with publish until a message on channel arrives
// from messages (a subscription being restored may miss the first ones).
func waitMessage(ctx context.Context, t *testing.T, messages <-chan pubsub.Message, channel string, publish func() error) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		require.NoError(t, publish())
		select {
		case m := <-messages:
			if m.Channel == channel {
				return
			}
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("no message on %s: %v", channel, ctx.Err())
		}
	}
}
