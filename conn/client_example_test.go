package conn_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

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

// Credentials supplies the username and password at every dial, so a
// rotated password (or a fresh IAM token) is used by the next connection
// the Client makes, redials included.
func ExampleOptions_credentials() {
	ctx := context.Background()
	server := redistest.Server()
	if _, err := server.Do(ctx, "ACL", "SETUSER", "example-app", "on", ">first-secret", "~example:*", "+@all"); err != nil {
		fmt.Println(err)
		return
	}
	defer server.Do(ctx, "ACL", "DELUSER", "example-app")

	var mu sync.Mutex
	secret := "first-secret" // where a secrets manager would put it
	c, err := conn.NewClient(ctx, server.Addr, &conn.Options{
		Credentials: func(ctx context.Context) (string, string, error) {
			mu.Lock()
			defer mu.Unlock()
			return "example-app", secret, nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	v, err := c.Do(ctx, "ACL", "WHOAMI")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v)

	// Rotate: the new secret is accepted alongside the old, the provider
	// hands it out, the old one is withdrawn. Live connections stay
	// authenticated; new ones use the new secret.
	if _, err := server.Do(ctx, "ACL", "SETUSER", "example-app", ">second-secret", "<first-secret"); err != nil {
		fmt.Println(err)
		return
	}
	mu.Lock()
	secret = "second-secret"
	mu.Unlock()
	err = c.Dedicated(ctx, func(cn *conn.Conn) error {
		v, err := cn.Do(ctx, "ACL", "WHOAMI")
		fmt.Println(v, "on a new connection")
		return err
	})
	fmt.Println(err)
	// Output:
	// "example-app"
	// "example-app" on a new connection
	// <nil>
}

// A token refresher calls Reauthenticate once the provider holds a fresh
// token: the live connection authenticates again, in place.
func ExampleClient_Reauthenticate() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, &conn.Options{
		Credentials: func(ctx context.Context) (string, string, error) {
			return "default", "", nil // no password here: nothing to send
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println(c.Reauthenticate(ctx))
	// Output: <nil>
}
