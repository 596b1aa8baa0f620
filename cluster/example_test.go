package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/internal/redistest"
)

func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println("slots served:", c.Topology().Covered())
	// Output: slots served: 16384
}

func ExampleClient_Do() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// Keys sharing a {hash tag} share a slot, so one command may name both.
	if _, err := c.Do(ctx, "MSET", "{example}:a", "1", "{example}:b", "2"); err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.Do(ctx, "MGET", "{example}:a", "{example}:b")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v)

	// Keys in different slots can't be used together by a command that
	// the server doesn't say how to split; nothing is sent.
	_, err = c.Do(ctx, "RENAME", "example:a", "example:b")
	fmt.Println(errors.Is(err, cluster.ErrCrossSlot))
	// Output:
	// 1) "1"
	// 2) "2"
	// true
}

func ExampleClient_DoMulti() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// The commands go to three different nodes; replies come back in order.
	replies, err := c.DoMulti(ctx,
		[]string{"SET", "example:x", "10"},
		[]string{"SET", "example:y", "20"},
		[]string{"INCRBY", "example:x", "5"},
		[]string{"GET", "example:y"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range replies {
		fmt.Println(r)
	}
	// Output:
	// OK
	// OK
	// (integer) 15
	// "20"
}
