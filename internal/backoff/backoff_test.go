package backoff

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPolicy(t *testing.T) {
	p := Policy{Min: 10 * time.Millisecond, Max: time.Second}
	ceilings := map[int]time.Duration{
		-1: 10 * time.Millisecond, 0: 10 * time.Millisecond, 1: 10 * time.Millisecond,
		2: 20 * time.Millisecond, 3: 40 * time.Millisecond,
		7: 640 * time.Millisecond, 8: time.Second, 9: time.Second, 100: time.Second,
		1 << 30: time.Second,
	}
	for attempt, ceiling := range ceilings {
		assert.Equal(t, ceiling, p.Ceiling(attempt), "attempt %d", attempt)
		for range 50 {
			d := p.Delay(attempt)
			assert.GreaterOrEqual(t, d, ceiling/2, "attempt %d", attempt)
			assert.LessOrEqual(t, d, ceiling, "attempt %d", attempt)
		}
	}
	assert.Zero(t, Policy{}.Delay(3), "the zero Policy does not wait")
}

func TestWait(t *testing.T) {
	p := Policy{Min: time.Hour, Max: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.Wait(ctx, 1), context.Canceled)
	assert.NoError(t, Policy{Min: time.Microsecond, Max: time.Microsecond}.Wait(context.Background(), 1))
}
