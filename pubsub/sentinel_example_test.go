package pubsub_test

import (
	"context"
	"fmt"

	"github.com/respwire/respwire/conn/sentinel"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
)

// A Subscriber on a Sentinel-managed master: after a failover it dials the
// new master and subscribes again by itself.
func ExampleNewSentinel() {
	ctx := context.Background()
	deployment, err := redistest.StartSentinel(ctx, redistest.SentinelOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer deployment.Stop()

	c, err := sentinel.New(ctx, &sentinel.Options{MasterName: deployment.MasterName, Addrs: deployment.SentinelAddrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	s, err := pubsub.NewSentinel(ctx, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.Subscribe(ctx, "news"); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Do(ctx, "PUBLISH", "news", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	m := <-s.Messages()
	fmt.Println(m.Channel, m.Payload)
	// Output: news hello
}
