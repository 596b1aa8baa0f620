// Package resp is the RESP3 and RESP2 wire codec: a Reader that decodes every
// RESP3 type into a Value that owns its memory, and append-style encoders. It
// does no network I/O and starts no goroutines; package conn builds on it.
//
// # Values
//
// A Value is one reply: its Kind is the type byte it arrived with
// (SimpleString, BulkString, Integer, Array, Map, Push, ...). Accessors
// convert where the conversion is exact (Text, Int, Float, Bool, BigInt) and
// otherwise return an error wrapping ErrWrongKind, such as
// "resp: Int on bulk string". Aggregates expose their elements with Elems
// (maps as keys and values alternating), and any attributes the server sent
// before a value with Attrs. Every null, RESP3's "_" as well as RESP2's $-1
// and *-1, has Kind Null. A server error reply is a value too: Err returns it
// as *Error. String renders a value the way redis-cli does.
//
// Values are built with NewBulkString, NewInt, NewArray, NewMap and friends,
// for tests and for servers written with this package.
//
// # Reading
//
// A Reader decodes one value per call to Read from a buffered stream. It
// reads lengths and integers without allocating; decoding a bulk string
// costs exactly one allocation (its string), and common simple strings
// ("OK", "PONG", "QUEUED"), integers, doubles, booleans and nulls cost none.
// Streamed strings ($?) and streamed aggregates (*?, %?, ~?) are assembled
// into ordinary values.
//
// # Limits and hostile input
//
// A peer cannot make a Reader allocate much more than the bytes it has sent.
// A declared length is checked against SetMaxBulkLen (512 MiB by default)
// before anything is allocated for it. A body of up to 64 KiB is allocated
// when its header arrives; a longer one only once a quarter of it has
// arrived, so a peer that stops short has made the Reader allocate at most
// about five times what it sent, plus 64 KiB. Aggregates reserve room only
// for elements the buffered bytes could hold and otherwise grow as elements
// arrive, and nesting is bounded by SetMaxDepth (128 by default). Malformed
// input (an unknown type byte, a negative length other than -1, a bad
// integer, double or boolean, a missing CRLF) fails with an error wrapping
// ErrProtocol whose text starts "resp:"; a limit exceeded wraps ErrTooLarge
// as well. Read returns io.EOF only between frames; a frame cut short fails
// with an error wrapping io.ErrUnexpectedEOF and ErrProtocol. No input makes
// the Reader panic.
//
// # Writing
//
// Encoders append to a caller's buffer and return it, like strconv.AppendInt:
// AppendCommand writes a command as Redis reads it, with no allocation when
// the buffer has room; AppendValue writes any Value in RESP3 and AppendValue2
// in RESP2's shapes; AppendBulkString, AppendInt, AppendMapHeader and the
// rest write single frames.
//
// # Example
//
//	buf := resp.AppendCommand(nil, "SET", "greeting", "hello")
//	// ... write buf to the connection, then:
//	r := resp.NewReader(conn)
//	v, err := r.Read()
//	if err != nil {
//		return err // the stream is broken: ErrProtocol, io.EOF, a network error
//	}
//	if err := v.Err(); err != nil {
//		return err // the server answered with an error, a *resp.Error
//	}
//	fmt.Println(v) // OK
package resp
