package apptest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// deployments are what the suite runs against: the same tests, through
// conn.Universal, on a standalone server and on the cluster.
// node tells, for checks behind the application's back, which server holds
// a key.
var deployments = []struct {
	name string
	open func(ctx context.Context) (conn.Universal, error)
	node func(ctx context.Context, key string) (*redistest.Node, error)
}{
	{"standalone", func(ctx context.Context) (conn.Universal, error) {
		return conn.NewClient(ctx, redistest.Server().Addr, nil)
	}, standaloneNode},
	{"standalone-resp2", func(ctx context.Context) (conn.Universal, error) {
		return conn.NewClient(ctx, redistest.Server().Addr, &conn.Options{Protocol: 2})
	}, standaloneNode},
	{"cluster", func(ctx context.Context) (conn.Universal, error) {
		return cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	}, func(ctx context.Context, key string) (*redistest.Node, error) {
		return redistest.Cluster().MasterOf(ctx, int(slots.Slot(key)))
	}},
}

func standaloneNode(context.Context, string) (*redistest.Node, error) { return redistest.Server(), nil }

// TestApp runs every part of the application against every deployment.
func TestApp(t *testing.T) {
	parts := []struct {
		name string
		test func(t *testing.T, ctx context.Context, db conn.Universal)
	}{
		{"RateLimiter", testRateLimiter},
		{"Queue", testQueue},
		{"Sessions", testSessions},
		{"Lock", testLock},
		{"AddIfBelow", testAddIfBelow},
		{"Profiles", testProfiles},
	}
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			db, err := d.open(ctx)
			require.NoError(t, err)
			defer db.Close()
			for _, p := range parts {
				t.Run(p.name, func(t *testing.T) { p.test(t, ctx, db) })
			}
			t.Run("QueueDoesNotStallOthers", func(t *testing.T) { testQueueDoesNotStallOthers(t, ctx, db, d.node) })
		})
	}
}

// unique returns a name no other test run uses.
func unique(t *testing.T) string {
	return fmt.Sprintf("%s:%d", t.Name(), time.Now().UnixNano())
}

func testRateLimiter(t *testing.T, ctx context.Context, db conn.Universal) {
	now := time.UnixMilli(1_700_000_000_000)
	l := &RateLimiter{DB: db, Limit: 3, Window: time.Minute, Now: func() time.Time { return now }}
	user := unique(t)
	var got []bool
	for range 5 {
		ok, err := l.Allow(ctx, user)
		require.NoError(t, err)
		got = append(got, ok)
	}
	assert.Equal(t, []bool{true, true, true, false, false}, got)

	ok, err := l.Allow(ctx, user+":other")
	require.NoError(t, err)
	assert.True(t, ok, "users are counted apart")

	now = now.Add(time.Minute)
	ok, err = l.Allow(ctx, user)
	require.NoError(t, err)
	assert.True(t, ok, "a new window starts from zero")

	key := "ratelimit:{" + user + "}:" + strconv.FormatInt(now.UnixMilli()/time.Minute.Milliseconds(), 10)
	v, err := db.DoCmd(ctx, conn.Cmd("PTTL", key))
	require.NoError(t, err)
	ttl, err := v.Int()
	require.NoError(t, err)
	assert.Greater(t, ttl, int64(0))
	assert.LessOrEqual(t, ttl, time.Minute.Milliseconds(), "the counter expires with its window")
}

func testQueue(t *testing.T, ctx context.Context, db conn.Universal) {
	q := &Queue{DB: db, Name: unique(t)}
	_, err := q.Take(ctx, 50*time.Millisecond)
	assert.ErrorIs(t, err, ErrNoJob, "an empty queue times out")

	jobs := [][]byte{[]byte("first"), {0, 0xff, '\r', '\n'}, []byte("third")}
	for _, j := range jobs {
		require.NoError(t, q.Push(ctx, j))
	}
	for _, want := range jobs {
		got, err := q.Take(ctx, time.Second)
		require.NoError(t, err)
		assert.Equal(t, want, got, "first in, first out, binary-safe")
		require.NoError(t, q.Ack(ctx, got))
	}
	assert.Error(t, q.Ack(ctx, jobs[0]), "acked already")

	// A worker that waits gets the job pushed while it waits.
	taken := make(chan []byte, 1)
	go func() {
		job, err := q.Take(ctx, 0)
		assert.NoError(t, err)
		taken <- job
	}()
	require.NoError(t, q.Push(ctx, []byte("late")))
	select {
	case job := <-taken:
		assert.Equal(t, []byte("late"), job)
	case <-ctx.Done():
		t.Fatal("Take never got the job")
	}
}

// testQueueDoesNotStallOthers: a worker blocked in BLMOVE holds a
// connection of its own, so everyone else's commands go on meanwhile.
func testQueueDoesNotStallOthers(t *testing.T, ctx context.Context, db conn.Universal,
	nodeOf func(ctx context.Context, key string) (*redistest.Node, error)) {
	q := &Queue{DB: db, Name: unique(t)}
	waiting, stop := context.WithCancel(ctx)
	defer stop()
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := q.Take(waiting, 0) // blocks until a job or stop
		done.Store(true)
		assert.ErrorIs(t, err, context.Canceled)
	})
	node, err := nodeOf(ctx, q.pending())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := node.Info(ctx, "clients")
		if err != nil {
			return false
		}
		blocked, err := strconv.Atoi(info["blocked_clients"])
		return err == nil && blocked > 0
	}, 10*time.Second, time.Millisecond, "BLMOVE blocks on the server")
	key := unique(t)
	for i := range 20 {
		_, err := db.DoCmd(ctx, conn.Cmd("SET", key).Int(int64(i)))
		require.NoError(t, err)
	}
	assert.False(t, done.Load(), "Take can only end by stop")
	stop()
	wg.Wait()
}

func testSessions(t *testing.T, ctx context.Context, db conn.Universal) {
	s := &Sessions{DB: db, TTL: time.Hour}
	id := unique(t)
	fields := map[string]string{"user": "ada", "role": "admin", "empty": "", "bin": "\x00\xff"}
	require.NoError(t, s.Save(ctx, id, fields))
	got, err := s.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, fields, got)

	require.NoError(t, s.Save(ctx, id, map[string]string{"role": "reader"}))
	got, err = s.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "reader", got["role"], "Save updates fields")
	assert.Equal(t, "ada", got["user"], "and keeps the others")

	v, err := db.DoCmd(ctx, conn.Cmd("PTTL", sessionKey(id)))
	require.NoError(t, err)
	ttl, err := v.Int()
	require.NoError(t, err)
	assert.Greater(t, ttl, (59 * time.Minute).Milliseconds(), "the TTL restarts")

	ok, err := s.Touch(ctx, id)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = s.Touch(ctx, id+":unknown")
	require.NoError(t, err)
	assert.False(t, ok)

	short := &Sessions{DB: db, TTL: time.Millisecond}
	require.NoError(t, short.Save(ctx, id+":short", fields))
	require.Eventually(t, func() bool {
		got, err := short.Load(ctx, id+":short")
		return err == nil && len(got) == 0
	}, 10*time.Second, 5*time.Millisecond, "an expired session has no fields")
}

func testLock(t *testing.T, ctx context.Context, db conn.Universal) {
	l := &Lock{DB: db}
	name := unique(t)
	mine, theirs := []byte("token-mine\x00"), []byte("token-theirs")
	ok, err := l.Acquire(ctx, name, mine, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = l.Acquire(ctx, name, theirs, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "held")

	ok, err = l.Release(ctx, name, theirs)
	require.NoError(t, err)
	assert.False(t, ok, "a wrong token releases nothing")
	ok, err = l.Release(ctx, name, mine)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = l.Acquire(ctx, name, theirs, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "free again")
}

func testAddIfBelow(t *testing.T, ctx context.Context, db conn.Universal) {
	key := unique(t)
	const workers, tries, limit = 4, 10, 25
	var added atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range tries {
				ok, err := AddIfBelow(ctx, db, key, 1, limit)
				if !assert.NoError(t, err) {
					return
				}
				if ok {
					added.Add(1)
				}
			}
		})
	}
	wg.Wait()
	v, err := db.DoCmd(ctx, conn.Cmd("GET", key))
	require.NoError(t, err)
	n, err := v.Int()
	require.NoError(t, err)
	assert.Equal(t, int64(limit), n, "never past the limit, however the callers raced")
	assert.Equal(t, int64(limit), added.Load(), "every add that reported true counted")
}

// TestAppWithAFake: the application needs nothing of a real server to be
// tested: a fake conn.Universal of a few lines is enough for a unit test.
func TestAppWithAFake(t *testing.T) {
	f := &fake{}
	q := &Queue{DB: f, Name: "jobs"}
	require.NoError(t, q.Push(context.Background(), []byte("j")))
	assert.Equal(t, []string{"LPUSH", "queue:{jobs}:pending", "j"}, f.sent[0])
	_, err := q.Take(context.Background(), 1500*time.Millisecond)
	assert.ErrorIs(t, err, errFake)
	assert.Equal(t, []string{"BLMOVE", "queue:{jobs}:pending", "queue:{jobs}:processing", "RIGHT", "LEFT", "1.5"}, f.sent[1])
}

var errFake = errors.New("fake: no server")

// fake records what it is sent and answers only LPUSH.
type fake struct{ sent [][]string }

func (f *fake) DoCmd(_ context.Context, cmd conn.Command) (v resp.Value, err error) {
	f.sent = append(f.sent, cmd.Strings())
	if cmd.Name() == "LPUSH" {
		return resp.Value{}, nil
	}
	return resp.Value{}, errFake
}

func (f *fake) DoMultiCmd(ctx context.Context, cmds ...conn.Command) ([]resp.Value, error) {
	return nil, errFake
}
func (f *fake) DoCacheCmd(context.Context, time.Duration, conn.Command) (resp.Value, error) {
	return resp.Value{}, errFake
}

func (f *fake) DoMultiCacheCmd(context.Context, time.Duration, ...conn.Command) ([]resp.Value, error) {
	return nil, errFake
}

func (f *fake) Watch(context.Context, func(conn.Doer) error, ...string) error { return errFake }
func (f *fake) Close() error                                                  { return nil }

func testProfiles(t *testing.T, ctx context.Context, db conn.Universal) {
	p := &Profiles{DB: db}
	id := unique(t)
	got, err := p.Get(ctx, id)
	require.NoError(t, err)
	assert.Nil(t, got, "no profile yet")
	require.NoError(t, p.Put(ctx, id, []byte("v1")))
	require.Eventually(t, func() bool {
		got, err := p.Get(ctx, id)
		return err == nil && string(got) == "v1"
	}, 10*time.Second, time.Millisecond, "the write invalidated the cached null")
	got, err = p.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, []byte("v1"), got)
	require.NoError(t, p.Put(ctx, id, []byte{0, 0xff}))
	require.Eventually(t, func() bool {
		got, err := p.Get(ctx, id)
		return err == nil && string(got) == "\x00\xff"
	}, 10*time.Second, time.Millisecond, "the second write invalidated v1")
}
