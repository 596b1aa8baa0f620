package conn_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

func ExampleDial() {
	ctx := context.Background()
	c, err := conn.Dial(ctx, redistest.Server().Addr, &conn.Options{ClientName: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

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
	fmt.Println(s, c.Protocol())
	// Output: hello 3
}

// Many goroutines share one Conn; their commands are pipelined.
func ExampleConn_Do() {
	ctx := context.Background()
	c, err := conn.Dial(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	var wg sync.WaitGroup
	counts := make([]int64, 4)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.Do(ctx, "INCRBY", "example:counter", "1")
			if err == nil {
				counts[i], _ = v.Int()
			}
		}()
	}
	wg.Wait()
	v, _ := c.Do(ctx, "GETDEL", "example:counter")
	n, _ := v.Int()
	fmt.Println(n)
	// Output: 4
}

func ExampleConn_DoMulti() {
	ctx := context.Background()
	c, err := conn.Dial(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	vals, err := c.DoMulti(ctx,
		[]string{"MULTI"},
		[]string{"SET", "example:tx", "1"},
		[]string{"INCR", "example:tx"},
		[]string{"EXEC"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	exec := vals[3].Elems()
	n, _ := exec[1].Int()
	fmt.Println(n)
	// Output: 2
}

func ExampleConn_Send() {
	ctx := context.Background()
	pushes := make(chan resp.Value, 16)
	c, err := conn.Dial(ctx, redistest.Server().Addr, &conn.Options{
		OnPush: func(v resp.Value) { pushes <- v },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// Send returns once the confirmation has reached OnPush.
	if err := c.Send(ctx, "SUBSCRIBE", "example:news"); err != nil {
		fmt.Println(err)
		return
	}
	printPush(<-pushes)
	if _, err := redistest.Server().Do(ctx, "PUBLISH", "example:news", "hi"); err != nil {
		fmt.Println(err)
		return
	}
	printPush(<-pushes)
	// Output:
	// subscribe example:news 1
	// message example:news hi
}

// Take messages straight from the read buffer, copying only what is kept;
// confirmations still come to OnPush.
func ExampleOptions_onPubSubMessage() {
	ctx := context.Background()
	payloads := make(chan string, 16)
	c, err := conn.Dial(ctx, redistest.Server().Addr, &conn.Options{
		OnPush: func(resp.Value) {},
		OnPubSubMessage: func(m conn.PubSubMessage) {
			payloads <- m.Kind + " " + string(m.Channel) + " " + string(m.Payload) // m's bytes are borrowed
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := c.Send(ctx, "SUBSCRIBE", "example:updates"); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := redistest.Server().Do(ctx, "PUBLISH", "example:updates", "v2"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-payloads)
	// Output:
	// message example:updates v2
}

func printPush(v resp.Value) {
	for i, e := range v.Elems() {
		if i > 0 {
			fmt.Print(" ")
		}
		if n, err := e.Int(); err == nil && e.Kind() == resp.Integer {
			fmt.Print(n)
			continue
		}
		s, _ := e.Text()
		fmt.Print(s)
	}
	fmt.Println()
}

func ExampleConn_Close() {
	c, err := conn.Dial(context.Background(), redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Close()
	<-c.Done()
	_, err = c.Do(context.Background(), "PING")
	fmt.Println(c.State(), errors.Is(err, conn.ErrClosed), c.Close())
	// Output: closed true <nil>
}
