package conn_test

import (
	"context"
	"fmt"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// visits is application code written once against conn.Universal: it
// runs unchanged on a conn.Client or a cluster.Client, and costs no more
// allocations through the interface than on either.
func visits(ctx context.Context, db conn.Universal, page string) (int64, error) {
	key := "example:visits:" + page
	replies, err := db.DoMultiCmd(ctx,
		conn.Cmd("INCR", key),
		conn.Cmd("EXPIRE", key).Int(int64((24 * time.Hour).Seconds())))
	if err != nil {
		return 0, err
	}
	return replies[0].Int()
}

func ExampleUniversal() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Or a cluster.Client, from cluster.New: the same interface.
	var db conn.Universal = c
	defer db.Close()

	_, _ = db.DoCmd(ctx, conn.Cmd("DEL", "example:visits:home"))
	for range 2 {
		n, err := visits(ctx, db, "home")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("visits:", n)
	}
	// Output:
	// visits: 1
	// visits: 2
}

// Arguments of any type: []byte values go on the wire as they are (no
// string copy, no allocation), numbers as their decimal text, written
// straight into the connection's buffer.
func ExampleCmd() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	payload := []byte{0x0a, 0x03, 'a', 'd', 'a'} // a protobuf message, say
	if _, err := c.DoCmd(ctx, conn.Cmd("SET", "example:user:1").Bytes(payload).Arg("EX").Int(3600)); err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.DoCmd(ctx, conn.Cmd("ZADD", "example:scores").Float(2.5).Arg("ada"))
	if err != nil {
		fmt.Println(err)
		return
	}
	added, _ := v.Int()
	v, _ = c.DoCmd(ctx, conn.Cmd("GET", "example:user:1"))
	s, _ := v.Text()
	fmt.Printf("%q added=%d\n", s, added)
	_, _ = c.DoCmd(ctx, conn.Cmd("DEL", "example:user:1", "example:scores"))
	// Output: "\n\x03ada" added=1
}

// A Script runs by its digest (EVALSHA) and sends its source (EVAL) only
// to a server that lacks it: after SCRIPT FLUSH, a restart, or a failover.
func ExampleScript() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// Make scripts once, at start up.
	incrCapped := conn.NewScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n > tonumber(ARGV[2]) then
	redis.call('SET', KEYS[1], ARGV[2])
	return tonumber(ARGV[2])
end
return n`)

	_, _ = c.DoCmd(ctx, conn.Cmd("DEL", "example:capped"))
	for range 3 {
		v, err := incrCapped.RunCmd(ctx, c, incrCapped.Cmd("example:capped").Int(4).Int(10))
		if err != nil {
			fmt.Println(err)
			return
		}
		n, _ := v.Int()
		fmt.Println(n)
	}
	// Output:
	// 4
	// 8
	// 10
}

// Scripts in a batch: DoMultiScripts sends EVAL for those the server
// answered NOSCRIPT.
func ExampleDoMultiScripts() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	double := conn.NewScript("return redis.call('SET', KEYS[1], ARGV[1] * 2)")
	replies, err := conn.DoMultiScripts(ctx, c,
		double.Cmd("example:doubled").Int(21),
		conn.Cmd("GETDEL", "example:doubled"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(replies[0], len(replies))
	// Output: OK 2
}

// Watch is for check-and-set: EXEC answers null, and nothing is written,
// when a watched key changed between WATCH and EXEC.
func ExampleClient_Watch() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	_, _ = c.DoCmd(ctx, conn.Cmd("SET", "example:balance").Int(100))
	err = c.Watch(ctx, func(tx conn.Doer) error {
		v, err := tx.DoCmd(ctx, conn.Cmd("GET", "example:balance"))
		if err != nil {
			return err
		}
		balance, _ := v.Int()
		replies, err := tx.DoMultiCmd(ctx,
			conn.Cmd("MULTI"),
			conn.Cmd("SET", "example:balance").Int(balance-30),
			conn.Cmd("EXEC"))
		if err != nil {
			return err
		}
		fmt.Println("committed:", !replies[2].IsNull())
		return nil
	}, "example:balance")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := c.DoCmd(ctx, conn.Cmd("GETDEL", "example:balance"))
	balance, _ := v.Int()
	fmt.Println(balance)
	// Output:
	// committed: true
	// 70
}
