package conn

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

func TestCloseIsIdempotent(t *testing.T) {
	c := dialTest(t, nil)
	require.NoError(t, c.Close())
	assert.Equal(t, StateClosed, c.State())
	<-c.Done()
	require.NoError(t, c.Close())

	_, err := c.Do(testContext(t), "PING")
	assert.ErrorIs(t, err, ErrClosed)
	_, err = c.DoMulti(testContext(t), []string{"PING"})
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, c.Send(testContext(t), "SUBSCRIBE", "x"), ErrClosed)
}

func TestCloseRacingClose(t *testing.T) {
	c := dialTest(t, nil)
	const callers = 1000
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		winners atomic.Int32
	)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// The winner is the caller that finds the state open; the
			// CAS inside closeWith is what Close runs.
			if c.closeWith(ErrClosed) {
				winners.Add(1)
				<-c.done
			}
			assert.NoError(t, c.Close())
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, winners.Load(), "exactly one caller tears down")
	assert.Equal(t, StateClosed, c.State())
	select {
	case <-c.Done():
	default:
		t.Fatal("Done is not closed after every Close returned")
	}
}

func TestCloseRacingDo(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	const callers = 1000
	var (
		wg             sync.WaitGroup
		started        sync.WaitGroup
		answered, shut atomic.Int32
	)
	started.Add(callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "conn:closerace:" + strconv.Itoa(i)
			started.Done()
			v, err := c.Do(ctx, "SET", key, "v")
			switch {
			case err == nil:
				assert.Equal(t, "OK", text(t, v))
				answered.Add(1)
			case errors.Is(err, ErrClosed):
				shut.Add(1)
			default:
				t.Errorf("Do returned %v, want a reply or ErrClosed", err)
			}
		}()
	}
	started.Wait()
	require.NoError(t, c.Close())
	wg.Wait()
	assert.EqualValues(t, callers, answered.Load()+shut.Load())
	t.Logf("%d answered, %d failed with ErrClosed", answered.Load(), shut.Load())
}

func TestServerDropsConnectionUnderLoad(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	id := clientID(t, c)

	const callers = 200
	var (
		wg     sync.WaitGroup
		killed = make(chan struct{})
		failed atomic.Int32
	)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "conn:dropped:" + strconv.Itoa(i)
			for {
				_, err := c.Do(ctx, "INCR", key)
				if err == nil {
					continue
				}
				if !errors.Is(err, ErrClosed) {
					t.Errorf("Do returned %v, want an error wrapping ErrClosed", err)
				}
				failed.Add(1)
				return
			}
		}()
	}
	go func() {
		defer close(killed)
		_, err := redistest.Server().Do(ctx, "CLIENT", "KILL", "ID", id)
		assert.NoError(t, err)
	}()
	<-killed
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("Done was not closed after the server dropped the connection")
	}
	wg.Wait()
	assert.EqualValues(t, callers, failed.Load())
	assert.Equal(t, StateClosed, c.State())

	_, err := c.Do(ctx, "PING")
	require.ErrorIs(t, err, ErrClosed)
	assert.Contains(t, err.Error(), "conn: connection lost: ", "the error says why")
	assert.NoError(t, c.Close(), "Close after the connection broke is a no-op")
}

func TestDialRacingClose(t *testing.T) {
	ctx := testContext(t)
	addr := redistest.Server().Addr
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(ctx, addr, nil)
			if !assert.NoError(t, err) {
				return
			}
			var inner sync.WaitGroup
			for range 4 {
				inner.Add(1)
				go func() {
					defer inner.Done()
					_, err := c.Do(ctx, "PING")
					if err != nil {
						assert.ErrorIs(t, err, ErrClosed)
					}
				}()
			}
			assert.NoError(t, c.Close())
			inner.Wait()
		}()
	}
	wg.Wait()
}

func TestDialCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Dial(ctx, redistest.Server().Addr, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestDialRefused(t *testing.T) {
	port, err := redistest.FreePort()
	require.NoError(t, err)
	_, err = Dial(testContext(t), "127.0.0.1:"+strconv.Itoa(port), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "conn: dial")
}

// TestCloseRacingEverything closes a Conn while goroutines run Do, DoMulti
// and Send on it with contexts that end at random points: every call returns
// its own reply, its context's error or an ErrClosed error, and none hangs.
func TestCloseRacingEverything(t *testing.T) {
	c := dialTest(t, &Options{OnPush: func(resp.Value) {}})
	ctx := testContext(t)
	const workers = 64
	var (
		wg      sync.WaitGroup
		started sync.WaitGroup
		calls   atomic.Int32
	)
	check := func(err error) bool {
		if err == nil {
			return true
		}
		if !errors.Is(err, ErrClosed) && !errors.Is(err, context.Canceled) {
			t.Errorf("unexpected error %v", err)
		}
		return false
	}
	started.Add(workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			for i := 0; ; i++ {
				calls.Add(1)
				call, cancel := context.WithCancel(ctx)
				if i%4 == 0 {
					go cancel()
				}
				val := strconv.Itoa(w) + "/" + strconv.Itoa(i)
				var err error
				switch i % 3 {
				case 0:
					var v resp.Value
					if v, err = c.Do(call, "ECHO", val); err == nil {
						assert.Equal(t, val, text(t, v))
					}
				case 1:
					var vals []resp.Value
					if vals, err = c.DoMulti(call, []string{"ECHO", val}, []string{"ECHO", val + "+"}); err == nil {
						assert.Equal(t, val, text(t, vals[0]))
						assert.Equal(t, val+"+", text(t, vals[1]))
					}
				default:
					err = c.Send(call, "SUBSCRIBE", "conn:chaos:"+val)
				}
				cancel()
				if !check(err) && errors.Is(err, ErrClosed) {
					return
				}
			}
		}()
	}
	started.Wait()
	require.Eventually(t, func() bool { return calls.Load() > 2000 }, 10*time.Second, time.Millisecond)
	require.NoError(t, c.Close())
	wg.Wait()
	assert.Equal(t, StateClosed, c.State())
}
