package resp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/respwire/respwire/resp"
)

// Decode replies as a connection would receive them: a value, a server error
// and a push frame, then the end of the stream.
func ExampleReader() {
	wire := "$5\r\nhello\r\n" +
		"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" +
		">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
	r := resp.NewReader(bytes.NewReader([]byte(wire)))
	for {
		v, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("broken stream:", err)
			return
		}
		var serverErr *resp.Error
		switch {
		case errors.As(v.Err(), &serverErr):
			fmt.Println("server error", serverErr.Code)
		case v.Kind() == resp.Push:
			fmt.Println("push with", len(v.Elems()), "elements")
		default:
			text, _ := v.Text()
			fmt.Println("text:", text)
		}
	}
	// Output:
	// text: hello
	// server error WRONGTYPE
	// push with 3 elements
}

// Malformed input is refused with an error that wraps ErrProtocol.
func ExampleReader_malformed() {
	r := resp.NewReader(bytes.NewReader([]byte("$-5\r\n")))
	_, err := r.Read()
	fmt.Println(err)
	fmt.Println(errors.Is(err, resp.ErrProtocol))
	// Output:
	// resp: negative bulk string length -5
	// true
}

// Lower the bulk limit for a peer that should only send small values. The
// reply over the limit is read past without being kept, so the next one
// still reads.
func ExampleReader_SetMaxBulkLen() {
	big := strings.Repeat("x", 100<<10)
	r := resp.NewReader(strings.NewReader("$102400\r\n" + big + "\r\n+OK\r\n"))
	r.SetMaxBulkLen(64 << 10)
	_, err := r.Read()
	fmt.Println(err)
	fmt.Println(errors.Is(err, resp.ErrTooLarge))
	v, err := r.Read()
	fmt.Println(v, err)
	// Output:
	// resp: bulk string length 102400 exceeds the limit of 65536 bytes (the whole bulk string reply was read and dropped)
	// true
	// OK <nil>
}

// A client that reads replies of untrusted size can bound how many elements
// one reply may hold, at every depth together; each one costs a Value.
func ExampleReader_SetMaxElements() {
	r := resp.NewReader(bytes.NewReader([]byte("*2\r\n*2\r\n:1\r\n:2\r\n*2\r\n:3\r\n:4\r\n")))
	r.SetMaxElements(5)
	_, err := r.Read()
	fmt.Println(err)
	fmt.Println(errors.Is(err, resp.ErrTooLarge))
	// Output:
	// resp: reply holds more than the limit of 5 elements (the whole array reply was read and dropped)
	// true
}

// Commands append to a reusable buffer: with room in it, no allocation.
func ExampleAppendCommand() {
	buf := make([]byte, 0, 64)
	buf = resp.AppendCommand(buf[:0], "SET", "greeting", "hello")
	fmt.Printf("%q\n", buf)
	// Output:
	// "*3\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$5\r\nhello\r\n"
}

// AppendValue writes any value, attributes included; a test server can
// answer with exactly what a real one would.
func ExampleAppendValue() {
	reply := resp.NewMap(resp.NewBulkString("server"), resp.NewBulkString("redis"),
		resp.NewBulkString("proto"), resp.NewInt(3))
	fmt.Printf("%q\n", resp.AppendValue(nil, reply))
	fmt.Printf("%q\n", resp.AppendValue2(nil, reply))
	// Output:
	// "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"
	// "*4\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"
}

// String renders a reply the way redis-cli prints it.
func ExampleValue_String() {
	v := resp.NewArray(
		resp.NewBulkString("key:1"),
		resp.NewInt(42),
		resp.NewNull(),
		resp.NewArray(resp.NewSimpleString("OK"), resp.NewDouble(1.5)),
	)
	fmt.Println(v)
	// Output:
	// 1) "key:1"
	// 2) (integer) 42
	// 3) (nil)
	// 4) 1) OK
	//    2) (double) 1.5
}
