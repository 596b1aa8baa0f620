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
// and *-1, has Kind Null, and every accessor called on one fails with an
// error wrapping ErrNull, so a missing key is errors.Is(err, resp.ErrNull). A
// server error reply is a value too: Err returns it as *Error. String renders
// a value the way redis-cli does.
//
// Reply helpers turn whole replies into Go values: Bytes for a string reply,
// Strings, Int64s and Float64s for arrays and sets, StringMap for a RESP3 map
// or a RESP2 flat array of keys and values (HGETALL, CONFIG GET). They return
// the server's *Error for an error reply, ErrNull for a null, and an error
// wrapping ErrWrongKind, naming the element at fault, for any other shape.
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
// when its header arrives, and so is one no longer than a body the peer
// sent whole since the Reader's last Trim; a longer one only once a quarter
// of it has arrived, so a peer that stops short has made the Reader
// allocate at most about five times what it sent, plus 64 KiB. Nesting is
// bounded by SetMaxDepth (128 by default), and the elements of one reply, at
// every depth together, by SetMaxElements (DefaultMaxElements, about 16.8
// million, by default); a declared count beyond it fails before anything is
// allocated for it. Malformed input (an unknown type byte, a negative length
// other than -1, a bad integer, double or boolean, a missing CRLF) fails with an
// error wrapping ErrProtocol whose text starts "resp:"; a limit exceeded
// wraps ErrTooLarge as well. Read returns io.EOF only between frames; a
// frame cut short fails with an error wrapping io.ErrUnexpectedEOF and
// ErrProtocol. No input makes the Reader panic.
//
// One bad reply does not end the stream when its framing is intact: a
// reply whose declared length or count is over a limit, or that holds a
// malformed scalar on a whole line (a double spelled in a way RESP3 does not
// allow, a bad integer), is read to its end, keeping nothing of it, and Read
// returns a *SkippedError; the next Read returns the next reply. What loses
// the framing (bad lengths, unknown type bytes, missing CRLFs, nesting past
// SetMaxDepth, a streamed value or a line past a limit) breaks the stream.
// Doubles are read as the RESP3 specification allows, including the NaN
// spellings of Redis before 7.2 ("-nan", "NAN", "nan(...)").
//
// Small elements cost the most memory per byte sent: every element decodes
// to a Value of S bytes (S is 64 on 64-bit platforms) and takes at least 3
// bytes on the wire ("_\r\n"); a string's text costs about its length
// besides. An aggregate reserves room up front only for the elements that
// the bytes already buffered could hold (or at most 16), then its slice
// doubles as elements arrive: a counted aggregate's in steps that end
// exactly at its count, a streamed one's from a single element. So, per
// byte sent:
//
//   - counted aggregates (*3, %2, ...): Read allocates at most 2*S/3 bytes
//     in all, counting the slices it outgrew (about 43), and the Value it
//     returns keeps at most S/3 (about 21);
//   - streamed aggregates (*?, %?, ~?), whose slice may end half empty, and
//     replies cut short: twice those, 4*S/3 allocated (about 85) and 2*S/3
//     kept (about 43).
//
// On top of that the Reader may reserve, once per reply, room for as many
// elements as a third of its buffer's size, and up to 16 for each aggregate
// still open. SetMaxElements caps the total where this is too generous.
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
