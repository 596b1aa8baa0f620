package bench

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// rueidisKind is rueidis with its defaults (auto-pipelining on a few shared
// connections per node) and client-side caching off, since no other client
// here caches.
func rueidisKind() clientKind {
	k := rueidisVariant("rueidis", rueidis.ClientOption{})
	k.subscribe = rueidisSubscribe
	return k
}

// rueidisFlushDelay is the MaxFlushDelay rueidis's documentation suggests
// ("something like 20 microseconds"): after each flush the pipeline's writer
// waits up to this long for more commands, so batches grow.
const rueidisFlushDelay = 20 * time.Microsecond

// rueidisFlushDelayKind is rueidis with MaxFlushDelay: 20µs, the setting its
// documentation suggests under load.
func rueidisFlushDelayKind() clientKind {
	return rueidisVariant("rueidis-flush20us", rueidis.ClientOption{MaxFlushDelay: rueidisFlushDelay})
}

// rueidisMultiplex is a PipelineMultiplex above both defaults: 2^4 = 16
// pipelined connections per node, where the defaults are 2^2 = 4 for a
// standalone client and 2^0 = 1 per node for a cluster client
// (rueidis.MaxPipelineMultiplex is 8).
const rueidisMultiplex = 4

// rueidisMultiplexKind is rueidis with PipelineMultiplex 4: more connections
// for concurrent callers to spread over. One caller at a time, or one
// pipeline, uses one connection either way, so it runs only the concurrent
// workloads.
func rueidisMultiplexKind() clientKind {
	k := rueidisVariant("rueidis-mux4", rueidis.ClientOption{PipelineMultiplex: rueidisMultiplex})
	k.noPipeline = true
	k.concurrentOnly = true
	return k
}

// rueidisVariant is rueidis with opt (InitAddress and DisableCache set here)
// on the standalone server and the cluster.
func rueidisVariant(name string, opt rueidis.ClientOption) clientKind {
	return clientKind{
		name: name,
		standalone: func(ctx context.Context, addr string) (kvClient, error) {
			return newRueidis(ctx, []string{addr}, opt)
		},
		cluster: func(ctx context.Context, addrs []string) (kvClient, error) {
			return newRueidis(ctx, addrs, opt)
		},
	}
}

func newRueidis(ctx context.Context, addrs []string, opt rueidis.ClientOption) (kvClient, error) {
	opt.InitAddress = addrs
	opt.DisableCache = true
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, err
	}
	return ready(ctx, rueidisClient{c})
}

type rueidisClient struct{ c rueidis.Client }

// get builds the command on every call, as rueidis's README shows: a built
// command is recycled by Do and must not be sent twice.
func (r rueidisClient) get(ctx context.Context, key string) (string, error) {
	return r.c.Do(ctx, r.c.B().Get().Key(key).Build()).ToString()
}

func (r rueidisClient) set(ctx context.Context, key, value string) error {
	return r.c.Do(ctx, r.c.B().Set().Key(key).Value(value).Build()).Error()
}

// pipeline pins the commands once, rueidis's documented way to send the same
// commands again.
func (r rueidisClient) pipeline(keys []string) func(ctx context.Context) error {
	cmds := make(rueidis.Commands, len(keys))
	for i, key := range keys {
		cmds[i] = r.c.B().Get().Key(key).Build().Pin()
	}
	return func(ctx context.Context) error {
		for _, reply := range r.c.DoMulti(ctx, cmds...) {
			v, err := reply.ToString()
			if err != nil {
				return err
			}
			if err := checkValue(v, valueSize); err != nil {
				return err
			}
		}
		return nil
	}
}

func (r rueidisClient) close() error {
	r.c.Close()
	return nil
}

// rueidisSubscribe runs Client.Receive, which blocks and calls back for each
// message on the connection's reader, until the context ends. It returns once
// the server has confirmed the subscription.
func rueidisSubscribe(ctx context.Context, addr, channel string, deliver func(string)) (io.Closer, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		return nil, err
	}
	receiveCtx, stop := context.WithCancel(context.Background())
	subscribed := make(chan struct{})
	var once sync.Once
	hooked := rueidis.WithOnSubscriptionHook(receiveCtx, func(rueidis.PubSubSubscription) {
		once.Do(func() { close(subscribed) })
	})
	received := make(chan error, 1)
	go func() {
		received <- c.Receive(hooked, c.B().Subscribe().Channel(channel).Build(), func(m rueidis.PubSubMessage) {
			deliver(m.Message)
		})
	}()
	closer := closerFunc(func() error {
		stop()
		err := <-received
		c.Close()
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	})
	select {
	case <-subscribed:
		return closer, nil
	case err := <-received:
		received <- err
		return nil, errors.Join(err, closer.Close())
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), closer.Close())
	}
}
