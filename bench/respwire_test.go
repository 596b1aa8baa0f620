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
	return ready(ctx, respwireClient{std: c})
}

func respwireCluster(ctx context.Context, addrs []string) (kvClient, error) {
	c, err := cluster.New(ctx, &cluster.Options{Addrs: addrs})
	if err != nil {
		return nil, err
	}
	return ready(ctx, respwireClient{cluster: c})
}

// respwireClient holds one of the two clients as its concrete type. Calling
// Do through an interface would make the compiler move every call's variadic
// argument slice to the heap, an allocation a user calling the client
// directly never pays.
type respwireClient struct {
	std     *conn.Client
	cluster *cluster.Client
}

func (r respwireClient) do(ctx context.Context, args ...string) (resp.Value, error) {
	if r.std != nil {
		return r.std.Do(ctx, args...)
	}
	return r.cluster.Do(ctx, args...)
}

func (r respwireClient) get(ctx context.Context, key string) (string, error) {
	v, err := r.do(ctx, "GET", key)
	if err != nil {
		return "", err
	}
	return v.Text()
}

func (r respwireClient) set(ctx context.Context, key, value string) error {
	_, err := r.do(ctx, "SET", key, value)
	return err
}

// pipeline builds the argument lists once: DoMulti does not keep them.
func (r respwireClient) pipeline(keys []string) func(ctx context.Context) error {
	cmds := make([][]string, len(keys))
	for i, key := range keys {
		cmds[i] = []string{"GET", key}
	}
	return func(ctx context.Context) error {
		var replies []resp.Value
		var err error
		if r.std != nil {
			replies, err = r.std.DoMulti(ctx, cmds...)
		} else {
			replies, err = r.cluster.DoMulti(ctx, cmds...)
		}
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

func (r respwireClient) close() error {
	if r.std != nil {
		return r.std.Close()
	}
	return r.cluster.Close()
}

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
