//go:build respwire_pubsub

package bench

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/respwire/respwire/pubsub"
)

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
