package conn_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

func ExampleNewClient() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// Ordinary commands share one pipelined connection, redialled when it
	// breaks; BLPOP gets a connection of its own, so it holds up no one.
	if _, err := c.Do(ctx, "RPUSH", "example:jobs", "job-1"); err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.Do(ctx, "BLPOP", "example:jobs", "0")
	if err != nil {
		fmt.Println(err)
		return
	}
	job, _ := v.Elems()[1].Text()
	fmt.Println(job)
	// Output: job-1
}

// An optimistic transaction: WATCH, read, then MULTI/EXEC on a connection
// no other goroutine writes to. EXEC answers null if the key changed.
func ExampleClient_Dedicated() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.Do(ctx, "SET", "example:balance", "10"); err != nil {
		fmt.Println(err)
		return
	}

	err = c.Dedicated(ctx, func(cn *conn.Conn) error {
		if _, err := cn.Do(ctx, "WATCH", "example:balance"); err != nil {
			return err
		}
		v, err := cn.Do(ctx, "GET", "example:balance")
		if err != nil {
			return err
		}
		balance, err := v.Int()
		if err != nil {
			return err
		}
		replies, err := cn.DoMulti(ctx,
			[]string{"MULTI"},
			[]string{"SET", "example:balance", fmt.Sprint(balance - 3)},
			[]string{"EXEC"})
		if err != nil {
			return err
		}
		if replies[2].IsNull() {
			return errors.New("balance changed meanwhile; try again")
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := c.Do(ctx, "GET", "example:balance")
	balance, _ := v.Text()
	fmt.Println(balance)
	// Output: 7
}
