// Command soak runs mixed load on a Redis Cluster it starts itself, injects
// faults periodically (a master killed and restarted, a failover, slots
// migrating, every client connection killed) and prints a line per interval:
// throughput, p99 latency, errors, goroutines, heap.
//
//	go run ./internal/cmd/soak -duration 1h -interval 1m
//
// It exits with status 1 if a reply reached the wrong caller, a call
// outlived its deadline, or the shard subscriptions did not come back after
// the last fault. It is not part of CI (make soak).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/internal/chaos"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
)

func main() {
	duration := flag.Duration("duration", time.Hour, "how long to run")
	interval := flag.Duration("interval", time.Minute, "how often to print a line")
	faultEvery := flag.Duration("fault-every", 0, "time between faults; 0 means twice the interval")
	workers := flag.Int("workers", 16, "load goroutines")
	flag.Parse()
	if *faultEvery <= 0 {
		*faultEvery = 2 * *interval
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *duration, *interval, *faultEvery, *workers)
	stop()
	if serr := redistest.Shutdown(); serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, duration, interval, faultEvery time.Duration, workers int) error {
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	c, err := redistest.StartCluster(startCtx, redistest.ClusterOptions{})
	cancel()
	if err != nil {
		return err
	}
	cc, err := cluster.New(ctx, &cluster.Options{Addrs: c.Addrs()})
	if err != nil {
		return err
	}
	defer cc.Close()
	sub, err := pubsub.NewCluster(ctx, cc)
	if err != nil {
		return err
	}
	watch, err := chaos.NewShardWatch(ctx, sub, cc, "soak", 16)
	if err != nil {
		return err
	}
	defer watch.Close()

	load := chaos.NewLoad(cc, chaos.LoadOptions{Workers: workers, Deadline: 2 * time.Second, Prefix: "soak"})
	load.Start()
	fmt.Printf("soak: cluster %v, %d workers, %v, a line every %v, a fault every %v\n",
		c.Addrs(), workers, duration, interval, faultEvery)

	f := &faulter{cluster: c}
	faultErr := make(chan error, 1)
	faultsDone := make(chan struct{})
	runCtx, cancelRun := context.WithTimeout(ctx, duration)
	defer cancelRun()
	go func() {
		defer close(faultsDone)
		faultErr <- f.loop(runCtx, faultEvery, load)
	}()

	report := newReporter(load, watch)
	tick := time.NewTicker(interval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-runCtx.Done():
			break loop
		case <-tick.C:
			report.line(f.count())
		}
	}
	<-faultsDone
	if err := <-faultErr; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		load.Stop()
		return fmt.Errorf("fault injection: %w", err)
	}
	// Let the last fault heal, then check that the subscriptions are live.
	healCtx, cancelHeal := context.WithTimeout(context.Background(), time.Minute)
	defer cancelHeal()
	if err := c.WaitHealthy(healCtx); err != nil {
		load.Stop()
		return err
	}
	resumeErr := watch.Resumed(healCtx)
	stuck := !load.Stop()
	report.line(f.count())
	s := load.Stats(chaos.Mark{})
	fmt.Printf("soak: done: calls=%d failed=%d hangs=%d crossed=%d faults=%d\n", s.Calls, s.Failed, s.Hangs, s.Crossed, f.count())
	switch {
	case stuck || s.Hangs > 0:
		return fmt.Errorf("%d calls outlived their deadline", s.Hangs)
	case s.Crossed > 0:
		return fmt.Errorf("%d replies reached the wrong caller: %q", s.Crossed, s.CrossedReplies)
	case resumeErr != nil:
		return resumeErr
	}
	return nil
}

// reporter prints one line per interval from the differences since the last.
type reporter struct {
	load                *chaos.Load
	watch               *chaos.ShardWatch
	start, last         time.Time
	lastCalls, lastFail int64
}

func newReporter(l *chaos.Load, w *chaos.ShardWatch) *reporter {
	now := time.Now()
	return &reporter{load: l, watch: w, start: now, last: now}
}

func (r *reporter) line(faults int) {
	now := time.Now()
	s := r.load.Stats(chaos.Mark{})
	lat := r.load.TakeLatencies()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	pubs, recv := r.watch.Counts()
	secs := now.Sub(r.last).Seconds()
	fmt.Printf("%7s ops/s=%.0f p99=%v errors=%d hangs=%d crossed=%d faults=%d goroutines=%d heap=%.1fMiB pubsub=%d/%d\n",
		now.Sub(r.start).Round(time.Second), float64(s.Calls-r.lastCalls)/secs,
		chaos.Percentile(lat, 99).Round(10*time.Microsecond), s.Failed-r.lastFail, s.Hangs, s.Crossed,
		faults, runtime.NumGoroutine(), float64(ms.HeapInuse)/(1<<20), recv, pubs)
	r.last, r.lastCalls, r.lastFail = now, s.Calls, s.Failed
}
