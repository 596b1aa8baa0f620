package pubsub_test

import (
	"context"
	"fmt"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
)

func ExampleHooks() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	restored := make(chan pubsub.ResubscribeEvent, 16)
	s, err := pubsub.NewWithOptions(ctx, redistest.Server().Addr, nil, &pubsub.Options{
		Hooks: &pubsub.Hooks{
			// Hooks run synchronously and must be quick: hand the event on.
			Resubscribe: func(e pubsub.ResubscribeEvent) { restored <- e },
			Gap: func(g pubsub.Gap) {
				fmt.Println("gap hook:", g.Channels, g.Cause != nil)
			},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.Subscribe(ctx, "example:hooks"); err != nil {
		fmt.Println(err)
		return
	}

	// The server drops the Subscriber's connection: it dials again and
	// subscribes anew, then reports the gap.
	admin, err := conn.Dial(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer admin.Close()
	if _, err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes"); err != nil {
		fmt.Println(err)
		return
	}
	m := <-s.Messages()
	fmt.Println("message:", m.Kind, m.Gap.Channels)
	e := <-restored
	fmt.Println("restored:", e.Channels, "channels,", e.Patterns, "patterns; error:", e.Err)
	// Output:
	// gap hook: [example:hooks] true
	// message: gap [example:hooks]
	// restored: 1 channels, 0 patterns; error: <nil>
}
