// Package backoff is the one retry delay of respwire's layers: exponential,
// capped, with random jitter, so that many clients that lost the same server
// do not come back in step.
//
// A Policy doubles from Min up to Max. Delay(n), for attempt n ≥ 1, is drawn
// at random between half of Ceiling(n) and all of it; Wait sleeps that long
// unless the context ends first.
//
//	p := backoff.Policy{Min: 10 * time.Millisecond, Max: time.Second}
//	for attempt := 1; ; attempt++ {
//		if err := try(); err == nil {
//			break
//		}
//		if err := p.Wait(ctx, attempt); err != nil {
//			return err
//		}
//	}
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff: Min for the first attempt, doubling for
// each later one, never more than Max. Both must be positive, Min ≤ Max.
type Policy struct {
	Min, Max time.Duration
}

// Ceiling is the longest delay before attempt n: Min doubled n-1 times,
// capped at Max. An attempt below 1 counts as 1.
func (p Policy) Ceiling(attempt int) time.Duration {
	d := p.Min
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Delay is how long to wait before attempt n: between half of Ceiling(n)
// and all of it, at random.
func (p Policy) Delay(attempt int) time.Duration {
	ceiling := p.Ceiling(attempt)
	if ceiling <= 0 {
		return 0
	}
	return ceiling/2 + rand.N(ceiling/2+1)
}

// Wait sleeps for Delay(attempt), or until ctx ends: then it returns
// ctx.Err().
func (p Policy) Wait(ctx context.Context, attempt int) error {
	t := time.NewTimer(p.Delay(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
