package cluster_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/internal/redistest"
)

func ExampleHooks() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	refreshes := make(chan cluster.RefreshEvent, 16)
	c, err := cluster.New(ctx, &cluster.Options{
		Addrs:           redistest.Cluster().Addrs(),
		RefreshInterval: -1, // no steady check: the example's only refresh is its own
		Hooks: &cluster.Hooks{
			// Hooks run synchronously and must be quick: hand the event on.
			Redirect: func(ctx context.Context, e cluster.RedirectEvent) {
				fmt.Println("redirect:", e.Name, e.Slot, e.From, "->", e.To, "ask:", e.Ask)
			},
			Refresh: func(e cluster.RefreshEvent) { refreshes <- e },
			Node: func(e cluster.NodeEvent) {
				fmt.Println("node:", e.Addr, "suspect:", e.Suspect, e.Cause)
			},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.Refresh(ctx); err != nil {
		fmt.Println(err)
		return
	}
	e := <-refreshes
	fmt.Println("refresh:", e.Reason, "changed:", e.Changed, "moved slots:", e.MovedSlots, "error:", e.Err)
	// Output: refresh: requested changed: false moved slots: 0 error: <nil>
}

func ExampleClient_Stats() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	before := c.Stats()
	for i := range 30 {
		if _, err := c.Do(ctx, "SET", "example:stats:"+strconv.Itoa(i), "v"); err != nil {
			fmt.Println(err)
			return
		}
	}
	st := c.Stats()
	// Total sums the nodes' figures; the SETs went to the masters of their
	// keys' slots.
	masters := 0
	for _, m := range c.Masters() {
		if st.Nodes[m.Addr].Commands > before.Nodes[m.Addr].Commands {
			masters++
		}
	}
	fmt.Println("commands:", st.Total.Commands-before.Total.Commands, "on", masters, "masters")
	fmt.Println("errors:", st.Total.Errors, "redirects:", st.Moved+st.Ask, "suspects:", st.Suspects)
	// Output:
	// commands: 30 on 3 masters
	// errors: 0 redirects: 0 suspects: 0
}
