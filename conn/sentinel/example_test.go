package sentinel_test

import (
	"context"
	"fmt"

	"github.com/respwire/respwire/conn/sentinel"
	"github.com/respwire/respwire/internal/redistest"
)

func ExampleNew() {
	ctx := context.Background()
	deployment := redistest.Sentinel()
	c, err := sentinel.New(ctx, &sentinel.Options{
		MasterName: deployment.MasterName, // "mymaster"
		Addrs:      deployment.SentinelAddrs(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// Commands go to whichever server the sentinels call the master, now
	// and after every failover.
	if _, err := c.Do(ctx, "SET", "example:greeting", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.Do(ctx, "GET", "example:greeting")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := v.Text()
	fmt.Println(s)
	// Output: hello
}
