package bench

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// goredisPoolSize gives go-redis one pooled connection per goroutine of the
// parallel workloads, so no caller waits for a free connection (rueidis's
// published comparison configures go-redis the same way).
func goredisPoolSize() int { return parallelism * runtime.GOMAXPROCS(0) }

// goredisKind is go-redis v9 with its connection pool: every command takes a
// connection, writes, waits for the reply and gives the connection back.
func goredisKind() clientKind {
	return clientKind{
		name: "goredis",
		standalone: func(ctx context.Context, addr string) (kvClient, error) {
			rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: goredisPoolSize()})
			return ready(ctx, &goredisClient{cmds: rdb, pipe: rdb.Pipeline, closer: rdb.Close})
		},
		cluster: func(ctx context.Context, addrs []string) (kvClient, error) {
			rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, PoolSize: goredisPoolSize()})
			return ready(ctx, &goredisClient{cmds: rdb, pipe: rdb.Pipeline, closer: rdb.Close})
		},
		subscribe: goredisSubscribe,
	}
}

// goredisAutoPipelineKind is go-redis's blocking auto-pipelining face,
// Client.AutoPipeline() with its default options: each call blocks like a
// plain client while the engine batches concurrent callers into pipelines.
// Its explicit pipelines and its pub/sub are the plain client's, so those
// workloads are not repeated for it.
func goredisAutoPipelineKind() clientKind {
	return goredisAutoPipelineVariant("goredis-autopipeline", nil, false)
}

// goredisTunedAutoPipeline is the parallel-batch configuration go-redis's own
// autopipeline benchmarks use (autopipeline_bench_README.md in v9.23.0): up
// to 80 batches of about 300 commands in flight at once, which gives up
// command ordering across callers (Unordered) for throughput.
func goredisTunedAutoPipeline() *redis.AutoPipelineOptions {
	return &redis.AutoPipelineOptions{MaxBatchSize: 300, MaxConcurrentBatches: 80, Unordered: true}
}

// goredisAutoPipelineTunedKind is the blocking face with that configuration.
// From one goroutine only one batch is ever in flight, the same path as the
// default options, so it runs only the concurrent workloads.
func goredisAutoPipelineTunedKind() clientKind {
	return goredisAutoPipelineVariant("goredis-autopipeline-tuned", goredisTunedAutoPipeline, true)
}

// goredisAutoPipelineVariant makes the blocking auto-pipeliner with the
// options options returns, or with AutoPipeline()'s defaults when options is
// nil.
func goredisAutoPipelineVariant(name string, options func() *redis.AutoPipelineOptions, concurrentOnly bool) clientKind {
	return clientKind{
		name: name,
		standalone: func(ctx context.Context, addr string) (kvClient, error) {
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			var ap *redis.AutoPipeliner
			var err error
			if options == nil {
				ap, err = rdb.AutoPipeline()
			} else {
				ap, err = rdb.AutoPipelineWithOptions(options())
			}
			if err != nil {
				return nil, errors.Join(err, rdb.Close())
			}
			return ready(ctx, &goredisClient{cmds: ap, pipe: ap.Pipeline, closer: closeBoth(ap.Close, rdb.Close)})
		},
		cluster: func(ctx context.Context, addrs []string) (kvClient, error) {
			rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
			var ap *redis.AutoPipeliner
			var err error
			if options == nil {
				ap, err = rdb.AutoPipeline()
			} else {
				ap, err = rdb.AutoPipelineWithOptions(options())
			}
			if err != nil {
				return nil, errors.Join(err, rdb.Close())
			}
			return ready(ctx, &goredisClient{cmds: ap, pipe: ap.Pipeline, closer: closeBoth(ap.Close, rdb.Close)})
		},
		noPipeline:     true,
		concurrentOnly: concurrentOnly,
	}
}

// goredisCommands is the part of go-redis's command surface the workloads
// use; plain clients, cluster clients and auto-pipeliners all have it.
type goredisCommands interface {
	Get(ctx context.Context, key string) *redis.StringCmd
	Set(ctx context.Context, key string, value any, expiration time.Duration) *redis.StatusCmd
}

type goredisClient struct {
	cmds   goredisCommands
	pipe   func() redis.Pipeliner
	closer func() error
}

func (c *goredisClient) get(ctx context.Context, key string) (string, error) {
	return c.cmds.Get(ctx, key).Result()
}

func (c *goredisClient) set(ctx context.Context, key, value string) error {
	return c.cmds.Set(ctx, key, value, 0).Err()
}

// pipeline reuses one Pipeliner: go-redis resets it after each Exec.
func (c *goredisClient) pipeline(keys []string) func(ctx context.Context) error {
	pipe := c.pipe()
	replies := make([]*redis.StringCmd, len(keys))
	return func(ctx context.Context) error {
		for i, key := range keys {
			replies[i] = pipe.Get(ctx, key)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		for _, r := range replies {
			if err := checkValue(r.Val(), valueSize); err != nil {
				return err
			}
		}
		return nil
	}
}

func (c *goredisClient) close() error { return c.closer() }

// goredisSubscribe reads messages from PubSub.Channel, go-redis's documented
// way to receive them concurrently, with a buffer as deep as the publisher's
// window so the channel itself never throttles.
func goredisSubscribe(ctx context.Context, addr, channel string, deliver func(string)) (io.Closer, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	ps := rdb.Subscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		return nil, errors.Join(err, ps.Close(), rdb.Close())
	}
	messages := ps.Channel(redis.WithChannelSize(publishWindow))
	var wg sync.WaitGroup
	wg.Go(func() {
		for m := range messages {
			deliver(m.Payload)
		}
	})
	return closerFunc(func() error {
		err := errors.Join(ps.Close(), rdb.Close())
		wg.Wait()
		return err
	}), nil
}

func closeBoth(first, second func() error) func() error {
	return func() error { return errors.Join(first(), second()) }
}
