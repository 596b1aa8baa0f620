package resp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
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

// Take pub/sub messages without decoding them into Values, and leave every
// other frame to Read.
func ExampleReader_ReadStrings() {
	wire := ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n" +
		">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
	r := resp.NewReader(strings.NewReader(wire))
	var scratch [4][]byte
	take := func(kind resp.Kind, elems [][]byte) bool {
		if kind != resp.Push || len(elems) != 3 || string(elems[0]) != "message" {
			return false
		}
		fmt.Printf("message on %s: %s\n", elems[1], elems[2]) // borrowed: valid until take returns
		return true
	}
	for {
		taken, err := r.ReadStrings(scratch[:], take)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("broken stream:", err)
			return
		}
		if !taken {
			v, _ := r.Read()
			first, _ := v.Elems()[0].Text()
			fmt.Println("left to Read:", first)
		}
	}
	// Output:
	// message on news: hi
	// left to Read: subscribe
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

// A GET of a missing key answers null, which is no empty string: every
// accessor and helper of a null fails with an error wrapping ErrNull.
func ExampleValue_Bytes() {
	r := resp.NewReader(strings.NewReader("$5\r\nhello\r\n$0\r\n\r\n$-1\r\n"))
	for range 3 {
		v, _ := r.Read()
		b, err := v.Bytes()
		switch {
		case errors.Is(err, resp.ErrNull):
			fmt.Println("missing key")
		case err != nil:
			fmt.Println("error:", err)
		default:
			fmt.Printf("%q\n", b)
		}
	}
	// Output:
	// "hello"
	// ""
	// missing key
}

// Strings, Int64s and Float64s read an array or a set whose elements are
// all of one sort; ZMSCORE answers doubles in RESP3 and strings in RESP2,
// and Float64s reads both.
func ExampleValue_Float64s() {
	resp3 := resp.NewArray(resp.NewDouble(1.5), resp.NewDouble(math.Inf(-1)))
	resp2 := resp.NewArray(resp.NewBulkString("1.5"), resp.NewBulkString("-inf"))
	for _, v := range []resp.Value{resp3, resp2} {
		scores, err := v.Float64s()
		fmt.Println(scores, err)
	}
	members, err := resp.NewSet(resp.NewBulkString("a"), resp.NewBulkString("b")).Strings()
	fmt.Println(members, err)
	_, err = resp.NewArray(resp.NewBulkString("a"), resp.NewNullBulk()).Strings()
	fmt.Println(err, errors.Is(err, resp.ErrNull))
	// Output:
	// [1.5 -Inf] <nil>
	// [1.5 -Inf] <nil>
	// [a b] <nil>
	// resp: Strings: element 1 is null true
}

// HGETALL and CONFIG GET answer a map in RESP3 and a flat array of keys and
// values in RESP2; StringMap reads either.
func ExampleValue_StringMap() {
	resp3 := resp.NewMap(resp.NewBulkString("name"), resp.NewBulkString("ada"))
	resp2 := resp.NewArray(resp.NewBulkString("name"), resp.NewBulkString("ada"))
	for _, v := range []resp.Value{resp3, resp2} {
		m, err := v.StringMap()
		fmt.Println(m, err)
	}
	_, err := resp.NewSimpleError("WRONGTYPE Operation against a key holding the wrong kind of value").StringMap()
	fmt.Println(err)
	// Output:
	// map[name:ada] <nil>
	// map[name:ada] <nil>
	// WRONGTYPE Operation against a key holding the wrong kind of value
}
