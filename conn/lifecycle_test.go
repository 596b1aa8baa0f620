package conn

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
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
