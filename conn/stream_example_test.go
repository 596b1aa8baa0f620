package conn_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// A large value hashed as it comes off the socket, never held in memory
// whole.
func ExampleClient_DoStream() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.Do(ctx, "SET", "example:blob", strings.Repeat("a", 1<<20)); err != nil {
		fmt.Println(err)
		return
	}
	h := sha256.New()
	n, err := c.DoStream(ctx, h, "GET", "example:blob")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes, sha256 %x...\n", n, h.Sum(nil)[:4])
	// Output: 1048576 bytes, sha256 9bc1b2a2...
}

// Values read into one buffer, reused from call to call: no allocation for
// the values once the buffer is large enough.
func ExampleClient_DoBuffer() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for _, kv := range [][2]string{{"example:a", "first"}, {"example:b", "second"}} {
		if _, err := c.Do(ctx, "SET", kv[0], kv[1]); err != nil {
			fmt.Println(err)
			return
		}
	}
	buf := make([]byte, 0, 64<<10)
	for _, k := range []string{"example:a", "example:b"} {
		buf, err = c.DoBuffer(ctx, buf[:0], "GET", k)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string(buf))
	}
	// Output:
	// first
	// second
}
