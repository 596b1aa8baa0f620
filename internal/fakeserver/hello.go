package fakeserver

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/respwire/respwire/resp"
)

// HelloReply is what a Redis 7 server answers to HELLO proto (2 or 3): a map
// on RESP3, a flat array on RESP2.
func HelloReply(proto int) resp.Value {
	kv := []resp.Value{
		resp.NewBulkString("server"), resp.NewBulkString("redis"),
		resp.NewBulkString("version"), resp.NewBulkString("7.0.15"),
		resp.NewBulkString("proto"), resp.NewInt(int64(proto)),
		resp.NewBulkString("id"), resp.NewInt(1),
		resp.NewBulkString("mode"), resp.NewBulkString("standalone"),
		resp.NewBulkString("role"), resp.NewBulkString("master"),
		resp.NewBulkString("modules"), resp.NewArray(),
	}
	if proto == 3 {
		return resp.NewMap(kv...)
	}
	return resp.NewArray(kv...)
}

// AcceptHello reads a HELLO command, whatever options it carries (AUTH,
// SETNAME), and answers it as Redis 7 does for the protocol it asks for.
func AcceptHello() Step {
	return Step{name: "accept HELLO", run: func(c *Conn) error {
		cmd, err := next(c, "HELLO")
		if err != nil {
			return err
		}
		proto, err := helloProto(cmd)
		if err != nil {
			return err
		}
		return c.Reply(HelloReply(proto))
	}}
}

// RefuseHello reads a HELLO command and answers it as Redis 5 does, with an
// unknown-command error; a client should carry on in RESP2.
func RefuseHello() Step {
	return Step{name: "refuse HELLO", run: func(c *Conn) error {
		cmd, err := next(c, "HELLO")
		if err != nil {
			return err
		}
		if !strings.EqualFold(cmd[0], "HELLO") {
			return fmt.Errorf("got command %s, want HELLO", quote(cmd))
		}
		return c.Reply(resp.NewSimpleError(refusedHello))
	}}
}

// refusedHello is Redis 5's answer to HELLO.
const refusedHello = "ERR unknown command 'HELLO', with args beginning with: "

// ServeHello is a Handler fragment: it answers HELLO like Redis 7, and the
// CLIENT TRACKING a caching client sends with it with OK, and reports
// whether cmd was one of those, so handlers can start with
//
//	if fakeserver.ServeHello(c, cmd) { return }
func ServeHello(c *Conn, cmd []string) bool {
	if isTracking(cmd) {
		_ = c.Reply(resp.NewSimpleString("OK"))
		return true
	}
	if !strings.EqualFold(cmd[0], "HELLO") {
		return false
	}
	proto, err := helloProto(cmd)
	if err != nil {
		_ = c.Reply(resp.NewSimpleError("ERR " + err.Error()))
		return true
	}
	_ = c.Reply(HelloReply(proto))
	return true
}

func helloProto(cmd []string) (int, error) {
	if !strings.EqualFold(cmd[0], "HELLO") {
		return 0, fmt.Errorf("got command %s, want HELLO", quote(cmd))
	}
	if len(cmd) < 2 {
		return 2, nil
	}
	proto, err := strconv.Atoi(cmd[1])
	if err != nil || (proto != 2 && proto != 3) {
		return 0, fmt.Errorf("HELLO with protocol version %q", cmd[1])
	}
	return proto, nil
}
