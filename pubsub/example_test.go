package pubsub_test

import (
	"context"
	"fmt"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
)

func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := pubsub.New(ctx, redistest.Server().Addr, &conn.Options{ClientName: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	// Subscribe returns once the server confirmed: what is published from
	// now on is delivered.
	if err := s.Subscribe(ctx, "example:news"); err != nil {
		fmt.Println(err)
		return
	}
	pub, err := conn.Dial(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pub.Close()
	if _, err := pub.Do(ctx, "PUBLISH", "example:news", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	m := <-s.Messages()
	fmt.Println(m.Kind, m.Channel, m.Payload)
	// Output: message example:news hello
}

func ExampleSubscriber_PSubscribe() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := pubsub.New(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.PSubscribe(ctx, "example:log:*"); err != nil {
		fmt.Println(err)
		return
	}
	pub, err := conn.Dial(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pub.Close()
	if _, err := pub.Do(ctx, "PUBLISH", "example:log:eu", "disk full"); err != nil {
		fmt.Println(err)
		return
	}
	m := <-s.Messages()
	fmt.Printf("%v %s matched %s: %s\n", m.Kind, m.Pattern, m.Channel, m.Payload)
	// Output: pmessage example:log:* matched example:log:eu: disk full
}

// Shard channels in any slots, in one call: the Subscriber sends one
// SSUBSCRIBE per slot to the master that owns it, and follows the slots when
// they move.
func ExampleNewCluster() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	s, err := pubsub.NewCluster(ctx, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	channels := []string{"example:orders:eu", "example:orders:us", "example:orders:asia"}
	if err := s.SSubscribe(ctx, channels...); err != nil {
		fmt.Println(err)
		return
	}
	for _, ch := range channels {
		// The cluster client routes SPUBLISH to the channel's master.
		if _, err := c.Do(ctx, "SPUBLISH", ch, "new order"); err != nil {
			fmt.Println(err)
			return
		}
		m := <-s.Messages()
		fmt.Println(m.Kind, m.Channel, m.Payload)
	}
	// Output:
	// smessage example:orders:eu new order
	// smessage example:orders:us new order
	// smessage example:orders:asia new order
}

// A Subscriber with a bigger Messages() buffer, whose reader resyncs from
// the source when a gap is reported. The connection is killed to make one.
func ExampleNewWithOptions() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := pubsub.NewWithOptions(ctx, redistest.Server().Addr, &conn.Options{ClientName: "example-gap"}, &pubsub.Options{MessageBuffer: 4096})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.Subscribe(ctx, "example:prices"); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := redistest.Server().Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub"); err != nil {
		fmt.Println(err)
		return
	}
	for m := range s.Messages() {
		if m.Kind == pubsub.KindGap {
			// Messages published between m.Gap.From and m.Gap.To may be
			// missing: read the prices again from where they are kept.
			fmt.Println(m.Kind, m.Gap.Channels, !m.Gap.To.Before(m.Gap.From))
			break
		}
	}
	// Output: gap [example:prices] true
}
