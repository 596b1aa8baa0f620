package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// newExampleClient connects to the test cluster, as a program would with
// its own seed addresses.
func newExampleClient(ctx context.Context) (*cluster.Client, error) {
	return cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
}

// MGET over keys of several slots is split by slot, sent to each slot's
// master, and answered in the caller's key order.
func ExampleClient_Do_multiSlotMGET() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := newExampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	if _, err := c.Do(ctx, "MSET", "fruit:1", "apple", "fruit:2", "pear", "fruit:3", "fig"); err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.Do(ctx, "MGET", "fruit:3", "fruit:1", "fruit:none", "fruit:2")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v)
	// Output:
	// 1) "fig"
	// 2) "apple"
	// 3) (nil)
	// 4) "pear"
}

// Scan walks every master's keys; breaking out of the loop stops it.
func ExampleClient_Scan() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := newExampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for _, k := range []string{"scan-example:a", "scan-example:b", "scan-example:c"} {
		if _, err := c.Do(ctx, "SET", k, "1"); err != nil {
			fmt.Println(err)
			return
		}
	}

	seen := map[string]bool{} // a key may come twice: keep a set
	for key, err := range c.Scan(ctx, &cluster.ScanOptions{Match: "scan-example:*", Count: 100}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		seen[key] = true
	}
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println(keys)
	// Output: [scan-example:a scan-example:b scan-example:c]
}

// ForEachMaster runs on every master at once and joins the errors.
func ExampleClient_ForEachMaster() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := newExampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	err = c.ForEachMaster(ctx, func(ctx context.Context, n cluster.Node) error {
		_, err := n.Do(ctx, "PING")
		return err
	})
	fmt.Println(len(c.Masters()), "masters, error:", err)
	// Output: 3 masters, error: <nil>
}

// Dedicated gives WATCH/MULTI/EXEC a connection of its own, on the master
// of the key's slot. A MOVED inside is an error to retry on.
func ExampleClient_Dedicated() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := newExampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.Do(ctx, "SET", "{acct:7}:balance", "100"); err != nil {
		fmt.Println(err)
		return
	}

	withdraw := func(cn *conn.Conn) error {
		if _, err := cn.Do(ctx, "WATCH", "{acct:7}:balance"); err != nil {
			return err
		}
		v, err := cn.Do(ctx, "GET", "{acct:7}:balance")
		if err != nil {
			return err
		}
		balance, _ := v.Int()
		replies, err := cn.DoMulti(ctx,
			[]string{"MULTI"},
			[]string{"SET", "{acct:7}:balance", fmt.Sprint(balance - 30)},
			[]string{"EXEC"})
		if err != nil {
			return err
		}
		if replies[2].IsNull() {
			return errors.New("balance changed meanwhile: try again")
		}
		return nil
	}
	for {
		err := c.Dedicated(ctx, "{acct:7}:balance", withdraw)
		if errors.Is(err, cluster.ErrSlotMoved) {
			continue // the routing knows the new owner now
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		break
	}
	v, _ := c.Do(ctx, "GET", "{acct:7}:balance")
	fmt.Println(v)
	// Output: "70"
}
