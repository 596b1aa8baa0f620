package redistest

import (
	"context"
	"fmt"
	"time"
)

const (
	pollInterval = 50 * time.Millisecond
	// waitTimeout bounds a wait when the caller's context has no deadline.
	waitTimeout = time.Minute
)

// poll calls check until it returns nil or ctx ends; the error then says
// what check last reported.
func poll(ctx context.Context, check func(context.Context) error) error {
	ctx, cancel := withDefaultTimeout(ctx, waitTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: %w; last check: %v", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// withDefaultTimeout gives ctx a deadline d from now unless it has one: no
// harness call waits forever because a test passed context.Background().
func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
