package redistest_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/respwire/respwire/internal/redistest"
)

func ExampleStartNode() {
	n, err := redistest.StartNode(redistest.NodeOptions{Password: "secret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Stop()
	v, err := n.Do(context.Background(), "PING") // Do authenticates
	fmt.Println(v, err)
	// Output: PONG <nil>
}

func ExampleServer() {
	// With redistest.Main(m, redistest.NeedServer) in TestMain:
	ctx := context.Background()
	n := redistest.Server()
	n.Do(ctx, "SET", "example:greeting", "hello")
	v, _ := n.Do(ctx, "GET", "example:greeting")
	fmt.Println(v)
	// Output: "hello"
}

func ExampleTestCluster_MigrateSlot() {
	// With redistest.Main(m, redistest.NeedCluster) in TestMain:
	ctx := context.Background()
	c := redistest.Cluster()
	const slot = 1000
	from, _ := c.MasterOf(ctx, slot)
	to := c.Masters()[2]
	if err := c.MigrateSlot(ctx, slot, to); err != nil {
		fmt.Println(err)
		return
	}
	owner, _ := c.MasterOf(ctx, slot)
	fmt.Println(owner == to)
	// Leave the shared cluster as it was.
	if err := c.MigrateSlot(ctx, slot, from); err != nil {
		fmt.Println(err)
	}
	// Output: true
}

func ExampleTestCluster_Failover() {
	ctx := context.Background()
	c := redistest.Cluster()
	master := c.Masters()[0]
	replica, _ := c.ReplicaOf(ctx, master)
	if err := c.Failover(ctx, master); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(slices.Contains(c.Masters(), replica), slices.Contains(c.Replicas(), master))
	// Leave the shared cluster as StartCluster made it.
	if err := c.Reset(ctx); err != nil {
		fmt.Println(err)
	}
	// Output: true true
}

func ExampleNode_Restart() {
	ctx := context.Background()
	n, err := redistest.StartNode(redistest.NodeOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Stop()
	port := n.Port
	n.Kill()
	_, err = n.Do(ctx, "PING")
	fmt.Println("answers after Kill:", err == nil)
	if err := n.Restart(ctx); err != nil {
		fmt.Println(err)
		return
	}
	_, err = n.Do(ctx, "PING")
	fmt.Println("answers after Restart:", err == nil, "same port:", n.Port == port)
	// Output:
	// answers after Kill: false
	// answers after Restart: true same port: true
}
