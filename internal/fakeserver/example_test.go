package fakeserver_test

import (
	"fmt"
	"net"
	"strings"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// exampleT stands in for the *testing.T a test would pass.
type exampleT struct{}

func (exampleT) Helper()                           {}
func (exampleT) Cleanup(func())                    {}
func (exampleT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func Example() {
	s := fakeserver.Start(exampleT{}).Script(
		fakeserver.Expect("GET", "k"),
		fakeserver.Push(resp.NewBulkString("message"), resp.NewBulkString("ch"), resp.NewBulkString("hi")),
		fakeserver.ReplyRaw([]byte("$3\r\nv"), []byte("al\r\n")),
		fakeserver.Close(),
	)
	defer s.Close()

	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	_, _ = nc.Write(resp.AppendCommand(nil, "GET", "k"))
	r := resp.NewReader(nc)
	for {
		v, err := r.Read()
		if err != nil {
			fmt.Println("then:", err)
			return
		}
		fmt.Println(v.Kind())
	}
	// Output:
	// push
	// bulk string
	// then: EOF
}

func ExampleServer_Handle() {
	s := fakeserver.Start(exampleT{}).Handle(func(c *fakeserver.Conn, cmd []string) {
		if fakeserver.ServeHello(c, cmd) {
			return
		}
		// Answer every command with its arguments, upper-cased.
		_ = c.Reply(resp.NewBulkString(strings.ToUpper(strings.Join(cmd[1:], " "))))
	})
	defer s.Close()

	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	_, _ = nc.Write(resp.AppendCommand(nil, "ECHO", "hello", "world"))
	v, err := resp.NewReader(nc).Read()
	if err != nil {
		fmt.Println(err)
		return
	}
	text, _ := v.Text()
	fmt.Println(text)
	// Output: HELLO WORLD
}
