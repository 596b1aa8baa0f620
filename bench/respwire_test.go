package bench

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/pubsub"
	"github.com/respwire/respwire/resp"
)

// respwireKind is respwire with default options: conn.Client on the
// standalone server, cluster.Client on the cluster, pubsub.Subscriber for
// pub/sub.
func respwireKind() clientKind {
	return clientKind{
		name:       "respwire",
		standalone: respwireStandalone,
		cluster:    respwireCluster,
		subscribe:  respwireSubscribe,
	}
}

func respwireStandalone(ctx context.Context, addr string) (kvClient, error) {
	c, err := conn.NewClient(ctx, addr, nil)
	if err != nil {
		return nil, err
	}
	return ready(ctx, respwireClient{c})
}

func respwireCluster(ctx context.Context, addrs []string) (kvClient, error) {
	c, err := cluster.New(ctx, &cluster.Options{Addrs: addrs})
	if err != nil {
		return nil, err
	}
	return ready(ctx, respwireClient{c})
}

// respwireCommands is what conn.Client and cluster.Client have in common.
type respwireCommands interface {
	Do(ctx context.Context, args ...string) (resp.Value, error)
	DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error)
	Close() error
}

type respwireClient struct{ c respwireCommands }

func (r respwireClient) get(ctx context.Context, key string) (string, error) {
	v, err := r.c.Do(ctx, "GET", key)
	if err != nil {
		return "", err
	}
	return v.Text()
}

func (r respwireClient) set(ctx context.Context, key, value string) error {
	_, err := r.c.Do(ctx, "SET", key, value)
	return err
}

// pipeline builds the argument lists once: DoMulti does not keep them.
func (r respwireClient) pipeline(keys []string) func(ctx context.Context) error {
	cmds := make([][]string, len(keys))
	for i, key := range keys {
		cmds[i] = []string{"GET", key}
	}
	return func(ctx context.Context) error {
		replies, err := r.c.DoMulti(ctx, cmds...)
		if err != nil {
			return err
		}
		for _, v := range replies {
			text, err := v.Text()
			if err != nil {
				return err
			}
			if err := checkValue(text, valueSize); err != nil {
				return err
			}
		}
		return nil
	}
}

func (r respwireClient) close() error { return r.c.Close() }

// respwireSubscribe ranges over Subscriber.Messages until Close closes it.
func respwireSubscribe(ctx context.Context, addr, channel string, deliver func(string)) (io.Closer, error) {
	s, err := pubsub.New(ctx, addr, nil)
	if err != nil {
		return nil, err
	}
	if err := s.Subscribe(ctx, channel); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for m := range s.Messages() {
			deliver(m.Payload)
		}
	})
	return closerFunc(func() error {
		err := s.Close()
		wg.Wait()
		return err
	}), nil
}
