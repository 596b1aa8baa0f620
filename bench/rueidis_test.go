package bench

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/redis/rueidis"
)

// rueidisKind is rueidis with its defaults (auto-pipelining on a few shared
// connections per node) and client-side caching off, since no other client
// here caches.
func rueidisKind() clientKind {
	return clientKind{
		name: "rueidis",
		standalone: func(ctx context.Context, addr string) (kvClient, error) {
			return newRueidis(ctx, []string{addr})
		},
		cluster: func(ctx context.Context, addrs []string) (kvClient, error) {
			return newRueidis(ctx, addrs)
		},
		subscribe: rueidisSubscribe,
	}
}

func newRueidis(ctx context.Context, addrs []string) (kvClient, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: addrs, DisableCache: true})
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
