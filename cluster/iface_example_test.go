package cluster_test

import (
	"context"
	"fmt"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// A cluster Client is a conn.Universal: code written against the
// interface runs on it as on a standalone conn.Client. Commands are routed
// by their keys whatever their type; here a []byte key and value.
func ExampleClient_DoCmd() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	var db conn.Universal = c
	defer db.Close()

	key, value := []byte("example:bytes"), []byte{0xde, 0xad, 0xbe, 0xef}
	if _, err := db.DoCmd(ctx, conn.Cmd("SET").Bytes(key).Bytes(value).Arg("PX").Int(60_000)); err != nil {
		fmt.Println(err)
		return
	}
	v, err := db.DoCmd(ctx, conn.Cmd("GETDEL").Bytes(key))
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := v.Text()
	fmt.Printf("% x\n", s)
	// Output: de ad be ef
}
