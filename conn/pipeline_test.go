package conn

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoCrossedReplies runs many goroutines on one Conn, each writing and
// reading keys of its own, and checks each gets its own replies.
func TestNoCrossedReplies(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	const (
		workers = 64
		rounds  = 100
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "conn:cross:" + strconv.Itoa(w)
			for i := range rounds {
				val := strconv.Itoa(w) + "/" + strconv.Itoa(i)
				if _, err := c.Do(ctx, "SET", key, val); !assert.NoError(t, err) {
					return
				}
				v, err := c.Do(ctx, "GET", key)
				if !assert.NoError(t, err) || !assert.Equal(t, val, text(t, v)) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDoMultiNeverInterleaves runs transactions from many goroutines at once,
// mixed with single commands: MULTI ... EXEC of one caller must reach the
// server unbroken, or EXEC would answer with another caller's commands.
func TestDoMultiNeverInterleaves(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	const (
		workers = 32
		rounds  = 50
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		key := "conn:multi:" + strconv.Itoa(w)
		go func() {
			defer wg.Done()
			for i := range rounds {
				val := strconv.Itoa(w) + "/" + strconv.Itoa(i)
				vals, err := c.DoMulti(ctx,
					[]string{"MULTI"},
					[]string{"SET", key, val},
					[]string{"GET", key},
					[]string{"EXEC"},
				)
				if !assert.NoError(t, err) || !assert.Len(t, vals, 4) {
					return
				}
				exec := vals[3].Elems()
				if !assert.Len(t, exec, 2, "EXEC reply %v", vals[3]) {
					return
				}
				assert.Equal(t, val, text(t, exec[1]))
			}
		}()
		go func() {
			defer wg.Done()
			other := "conn:multi:single:" + strconv.Itoa(w)
			for i := range rounds {
				v, err := c.Do(ctx, "ECHO", other+strconv.Itoa(i))
				if !assert.NoError(t, err) || !assert.Equal(t, other+strconv.Itoa(i), text(t, v)) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestCancelStorm abandons many calls at random points while others run:
// every surviving call still gets its own reply.
func TestCancelStorm(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				val := strconv.Itoa(w) + "/" + strconv.Itoa(i)
				short, cancel := context.WithCancel(ctx)
				if i%3 == 0 {
					// Ends while the command is queued, being written or
					// awaiting its reply, whichever comes.
					go cancel()
				}
				v, err := c.Do(short, "ECHO", val)
				cancel()
				if err != nil {
					assert.ErrorIs(t, err, context.Canceled)
					continue
				}
				assert.Equal(t, val, text(t, v))
			}
		}()
	}
	wg.Wait()
	v, err := c.Do(ctx, "ECHO", "last")
	require.NoError(t, err)
	assert.Equal(t, "last", text(t, v))
}
