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
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, waitTimeout)
		defer cancel()
	}
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
