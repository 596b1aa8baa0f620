package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/internal/chaos"
	"github.com/respwire/respwire/internal/redistest"
)

// faulter injects one fault after another, each followed by recovery.
type faulter struct {
	cluster *redistest.TestCluster
	done    atomic.Int64
}

func (f *faulter) count() int { return int(f.done.Load()) }

// loop injects a fault every period until ctx ends, rotating through the
// kinds, and prints each with how long service was degraded afterwards.
func (f *faulter) loop(ctx context.Context, period time.Duration, load *chaos.Load) error {
	kinds := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"kill-master", f.killMaster},
		{"failover", f.failover},
		{"migrate", f.migrate},
		{"client-kill", f.clientKill},
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		kind := kinds[i%len(kinds)]
		mark := load.Mark()
		before := load.Stats(mark)
		if err := kind.run(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", kind.name, err)
		}
		f.done.Add(1)
		after := load.Stats(mark)
		fmt.Printf("   fault=%s degraded=%.2fs failed=%d/%d\n", kind.name, after.Degraded.Seconds(),
			after.Failed-before.Failed, after.Calls-before.Calls)
	}
}

// victim is the master of a random slot.
func (f *faulter) victim(ctx context.Context) (*redistest.Node, int, error) {
	slot := rand.IntN(16384)
	m, err := f.cluster.MasterOf(ctx, slot)
	return m, slot, err
}

func (f *faulter) killMaster(ctx context.Context) error {
	m, _, err := f.victim(ctx)
	if err != nil {
		return err
	}
	if err := m.Kill(); err != nil {
		return err
	}
	if err := f.cluster.WaitHealthy(ctx); err != nil {
		return err
	}
	if err := m.Restart(ctx); err != nil {
		return err
	}
	return f.cluster.WaitHealthy(ctx)
}

func (f *faulter) failover(ctx context.Context) error {
	m, _, err := f.victim(ctx)
	if err != nil {
		return err
	}
	return f.cluster.Failover(ctx, m)
}

// migrate moves a few random slots to another master and back.
func (f *faulter) migrate(ctx context.Context) error {
	for range 4 {
		home, slot, err := f.victim(ctx)
		if err != nil {
			return err
		}
		masters := f.cluster.Masters()
		other := masters[0]
		if other.ID == home.ID {
			other = masters[1]
		}
		if err := f.cluster.MigrateSlot(ctx, slot, other); err != nil {
			return err
		}
		if err := f.cluster.MigrateSlot(ctx, slot, home); err != nil {
			return err
		}
	}
	return nil
}

func (f *faulter) clientKill(ctx context.Context) error {
	for _, kind := range []string{"normal", "pubsub"} {
		for _, n := range f.cluster.Nodes() {
			if _, err := n.Do(ctx, "CLIENT", "KILL", "TYPE", kind); err != nil {
				return fmt.Errorf("CLIENT KILL TYPE %s on %s: %w", kind, n, err)
			}
		}
	}
	return nil
}
