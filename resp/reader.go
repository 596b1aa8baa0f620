package resp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"unsafe"
)

// Limits a Reader applies unless told otherwise.
const (
	// DefaultMaxBulkLen is the longest bulk string, bulk error, verbatim
	// string or line a Reader accepts: 512 MiB, Redis's own proto-max-bulk-len.
	DefaultMaxBulkLen = 512 << 20

	// DefaultMaxDepth is how deeply aggregates (arrays, maps, sets, pushes,
	// attributes) may nest. Redis's own replies nest a few levels (CLUSTER
	// SHARDS, XINFO STREAM FULL); scripts and modules can go deeper, but 128
	// is far past any real reply while keeping the decoder's recursion (and
	// so its goroutine stack) small against a peer that opens a million
	// arrays.
	DefaultMaxDepth = 128
)

const (
	// minValueLen is the fewest bytes a value takes on the wire ("_\r\n"): a
	// peer that declares count elements must send at least count*minValueLen
	// bytes, which bounds how much the Reader reserves ahead of them.
	minValueLen = 3
	// smallAggregate is the capacity reserved for an aggregate whose declared
	// count is not yet backed by buffered bytes; it then grows by appending.
	smallAggregate = 16
	// bodyStep is how much of a large bulk string is allocated ahead of the
	// bytes that have arrived.
	bodyStep = 64 << 10
)

// errStreamEnd is how readValue reports the "." that closes a streamed
// aggregate; it never leaves the package.
var errStreamEnd = errors.New("resp: end of streamed aggregate")

// Reader decodes RESP3 and RESP2 values from a byte stream. It is not safe
// for concurrent use. After Read returns an error other than io.EOF the
// stream is out of step: discard the Reader.
type Reader struct {
	br       *bufio.Reader
	maxBulk  int64
	maxDepth int
	// budget is how many elements the aggregates of the current frame may
	// still reserve up front, from the bytes already buffered; -1 until the
	// frame's first large aggregate computes it.
	budget int
}

// NewReader returns a Reader with a 4 KiB buffer on r.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, 4096) }

// NewReaderSize returns a Reader whose buffer holds at least size bytes. Bulk
// strings that fit in the buffer are copied out of it with one allocation;
// larger ones are read straight into their own memory.
func NewReaderSize(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, size), maxBulk: DefaultMaxBulkLen, maxDepth: DefaultMaxDepth}
}

// Reset discards buffered data and makes the Reader read from r, keeping its
// buffer and limits.
func (r *Reader) Reset(rd io.Reader) { r.br.Reset(rd) }

// Buffered returns how many bytes are buffered and not yet decoded.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// SetMaxBulkLen sets the longest bulk string, bulk error, verbatim string,
// streamed string (all chunks together) or line the Reader accepts. Longer
// input fails with an error wrapping ErrTooLarge before anything is allocated
// for it. n <= 0 restores DefaultMaxBulkLen.
func (r *Reader) SetMaxBulkLen(n int64) {
	if n <= 0 {
		n = DefaultMaxBulkLen
	}
	r.maxBulk = min(n, math.MaxInt-2)
}

// SetMaxDepth sets how deeply aggregates may nest; deeper input fails with an
// error wrapping ErrTooLarge. n <= 0 restores DefaultMaxDepth.
func (r *Reader) SetMaxDepth(n int) {
	if n <= 0 {
		n = DefaultMaxDepth
	}
	r.maxDepth = n
}

// Read decodes the next value. A server error reply is a Value (see
// Value.Err), not an error. Read returns io.EOF only when the stream ends at
// a frame boundary; a frame cut short fails with an error wrapping both
// ErrProtocol and io.ErrUnexpectedEOF. Malformed input fails with an error
// wrapping ErrProtocol. Errors of the underlying reader are returned as they
// are.
func (r *Reader) Read() (Value, error) {
	r.budget = -1
	return r.readValue(0, false)
}

// readValue reads one value with the attributes before it. When inStream is
// set, the end marker of a streamed aggregate yields errStreamEnd. It returns
// io.EOF, for the caller to judge, when the stream ends before the value.
func (r *Reader) readValue(depth int, inStream bool) (Value, error) {
	var attrs []Value
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && attrs != nil {
				err = truncated("the value after an attribute")
			}
			return Value{}, err
		}
		if len(line) == 0 {
			return Value{}, errorf("resp: empty line where a value should start")
		}
		if Kind(line[0]) == Attribute {
			kv, err := r.readAggregate(line, depth)
			if err != nil {
				return Value{}, err
			}
			attrs = append(attrs, kv.elems...)
			if attrs == nil {
				attrs = []Value{} // an empty attribute still expects a value after it
			}
			continue
		}
		if line[0] == '.' && len(line) == 1 && inStream && attrs == nil {
			return Value{}, errStreamEnd
		}
		v, err := r.readAfterLine(line, depth)
		if len(attrs) > 0 {
			v = v.withAttrList(attrs)
		}
		return v, err
	}
}

// readAfterLine decodes the value whose first line (type byte included, CRLF
// not) is line, reading its body and elements if it has any.
func (r *Reader) readAfterLine(line []byte, depth int) (Value, error) {
	kind, payload := Kind(line[0]), line[1:]
	switch kind {
	case SimpleString:
		if bytes.IndexByte(payload, '\r') >= 0 {
			return Value{}, errorf("resp: simple string " + quote(payload) + " holds a CR")
		}
		return Value{kind: SimpleString, str: simpleText(payload)}, nil
	case SimpleError:
		if bytes.IndexByte(payload, '\r') >= 0 {
			return Value{}, errorf("resp: simple error " + quote(payload) + " holds a CR")
		}
		return Value{kind: SimpleError, str: string(payload)}, nil
	case Integer:
		n, ok := parseInt(payload)
		if !ok {
			return Value{}, errorf("resp: bad integer " + quote(payload))
		}
		return Value{kind: Integer, num: n}, nil
	case Null:
		if len(payload) != 0 {
			return Value{}, errorf("resp: bad null " + quote(line))
		}
		return Value{kind: Null}, nil
	case Boolean:
		if len(payload) == 1 && (payload[0] == 't' || payload[0] == 'f') {
			return NewBool(payload[0] == 't'), nil
		}
		return Value{}, errorf("resp: bad boolean " + quote(payload) + ", want t or f")
	case Double:
		f, ok := parseDouble(borrow(payload))
		if !ok {
			return Value{}, errorf("resp: bad double " + quote(payload))
		}
		return NewDouble(f), nil
	case BigNumber:
		if !isBigNumber(payload) {
			return Value{}, errorf("resp: bad big number " + quote(payload))
		}
		return Value{kind: BigNumber, str: string(payload)}, nil
	case BulkString, BulkError, Verbatim:
		return r.readBulk(kind, payload)
	case Array, Set, Push, Map:
		return r.readAggregate(line, depth)
	case '.':
		return Value{}, errorf("resp: end marker '.' outside a streamed aggregate")
	}
	return Value{}, errorf("resp: unknown type byte " + strconv.QuoteRune(rune(line[0])))
}

// simpleText returns the text of a simple string, sharing the common ones.
func simpleText(b []byte) string {
	switch string(b) { // compiles to comparisons, no allocation
	case internedOK:
		return internedOK
	case internedPONG:
		return internedPONG
	case internedQUEUED:
		return internedQUEUED
	}
	return string(b)
}

// readLine returns the next line without its CRLF. The slice is valid until
// the next read. It returns io.EOF when the stream ends before the line's
// first byte.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	switch err {
	case nil:
	case bufio.ErrBufferFull:
		return r.readLongLine(line)
	case io.EOF:
		if len(line) == 0 {
			return nil, io.EOF
		}
		return nil, truncated("the line " + quote(line))
	default:
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errorf("resp: line " + quote(line) + " ends in LF without CR")
	}
	return line[:len(line)-2], nil
}

// readLongLine finishes a line longer than the buffer, of which first was
// read, in memory of its own that grows with the bytes that arrive.
func (r *Reader) readLongLine(first []byte) ([]byte, error) {
	limit := int(r.maxBulk) + 2 // the text and its CRLF
	line := append([]byte(nil), first...)
	for {
		more, err := r.br.ReadSlice('\n')
		if len(line)+len(more) > limit {
			return nil, tooLarge("resp: line longer than the limit of " + strconv.FormatInt(r.maxBulk, 10) + " bytes")
		}
		line = append(grow(line, len(more), limit), more...)
		switch err {
		case nil:
			if line[len(line)-2] != '\r' {
				return nil, errorf("resp: line " + quote(line) + " ends in LF without CR")
			}
			return line[:len(line)-2], nil
		case bufio.ErrBufferFull:
		case io.EOF:
			return nil, truncated("the line " + quote(line))
		default:
			return nil, err
		}
	}
}

// readBulk reads the body of a bulk string, bulk error or verbatim string
// whose header (after the type byte) is header.
func (r *Reader) readBulk(kind Kind, header []byte) (Value, error) {
	if len(header) == 1 && header[0] == '?' {
		if kind != BulkString {
			return Value{}, errorf("resp: " + kind.String() + " cannot be streamed")
		}
		return r.readStreamedString()
	}
	n, ok := parseInt(header)
	switch {
	case !ok:
		return Value{}, errorf("resp: bad " + kind.String() + " length " + quote(header))
	case n == -1 && kind == BulkString:
		return Value{kind: Null, shape: BulkString}, nil
	case n < 0:
		return Value{}, errorf("resp: negative " + kind.String() + " length " + strconv.FormatInt(n, 10))
	case n > r.maxBulk:
		return Value{}, r.bulkTooLarge(kind, n)
	case kind == Verbatim && n < 4:
		return Value{}, errorf("resp: verbatim string of " + strconv.FormatInt(n, 10) + " bytes has no room for its format")
	}
	text, err := r.readBody(int(n), kind)
	if err != nil {
		return Value{}, err
	}
	v := Value{kind: kind, str: text}
	if kind == Verbatim {
		if text[3] != ':' {
			return Value{}, errorf("resp: verbatim string " + quote([]byte(text)) + " lacks the ':' after its format")
		}
		v.num = 3
	}
	return v, nil
}

func (r *Reader) bulkTooLarge(kind Kind, n int64) error {
	return tooLarge("resp: " + kind.String() + " length " + strconv.FormatInt(n, 10) +
		" exceeds the limit of " + strconv.FormatInt(r.maxBulk, 10) + " bytes")
}

// readBody reads n bytes and the CRLF after them and returns the bytes as a
// string, with one allocation.
func (r *Reader) readBody(n int, kind Kind) (string, error) {
	if n+2 <= r.br.Size() {
		b, err := r.br.Peek(n + 2)
		if err != nil {
			return "", r.bodyError(err, kind)
		}
		if b[n] != '\r' || b[n+1] != '\n' {
			return "", errorf("resp: " + kind.String() + " of " + strconv.Itoa(n) + " bytes not followed by CRLF")
		}
		s := string(b[:n])
		r.br.Discard(n + 2)
		return s, nil
	}
	buf, err := r.appendBody(nil, n, n, kind)
	if err != nil {
		return "", err
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil // buf is ours alone and never written again
}

// appendBody reads n bytes and the CRLF after them onto buf. buf grows as the
// bytes arrive, at most doubling and never past capLimit, so that a peer who
// declares a huge length and sends little makes the Reader allocate little.
func (r *Reader) appendBody(buf []byte, n, capLimit int, kind Kind) ([]byte, error) {
	for n > 0 {
		step := min(n, bodyStep)
		buf = grow(buf, step, capLimit)
		k, err := io.ReadFull(r.br, buf[len(buf):len(buf)+step])
		buf = buf[:len(buf)+k]
		if err != nil {
			return nil, r.bodyError(err, kind)
		}
		n -= step
	}
	b, err := r.br.Peek(2)
	if err != nil {
		return nil, r.bodyError(err, kind)
	}
	if b[0] != '\r' || b[1] != '\n' {
		return nil, errorf("resp: " + kind.String() + " of " + strconv.Itoa(len(buf)) + " bytes not followed by CRLF")
	}
	r.br.Discard(2)
	return buf, nil
}

// grow makes room in buf for n more bytes, at least doubling its capacity
// but not past capLimit unless n needs it.
func grow(buf []byte, n, capLimit int) []byte {
	if cap(buf)-len(buf) >= n {
		return buf
	}
	grown := make([]byte, len(buf), max(len(buf)+n, min(2*cap(buf), capLimit)))
	copy(grown, buf)
	return grown
}

func (r *Reader) bodyError(err error, kind Kind) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return truncated(kind.String())
	}
	return err
}

// readStreamedString reads the chunks of a streamed string ($?): ";len"
// lines each followed by that many bytes, until ";0".
func (r *Reader) readStreamedString() (Value, error) {
	var buf []byte
	for {
		line, err := r.readLine()
		if err == io.EOF {
			err = truncated("streamed string")
		}
		if err != nil {
			return Value{}, err
		}
		if len(line) == 0 || line[0] != ';' {
			return Value{}, errorf("resp: streamed string chunk " + quote(line) + " does not start with ';'")
		}
		n, ok := parseInt(line[1:])
		switch {
		case !ok || n < 0:
			return Value{}, errorf("resp: bad streamed string chunk length " + quote(line[1:]))
		case n == 0:
			if len(buf) == 0 {
				return Value{kind: BulkString}, nil
			}
			return Value{kind: BulkString, str: unsafe.String(unsafe.SliceData(buf), len(buf))}, nil
		case n > r.maxBulk-int64(len(buf)):
			return Value{}, r.bulkTooLarge(BulkString, int64(len(buf))+n)
		}
		if buf, err = r.appendBody(buf, int(n), int(r.maxBulk), BulkString); err != nil {
			return Value{}, err
		}
	}
}

// readAggregate reads the elements of an array, set, push, map or attribute
// whose header line is line. depth counts the aggregates around it.
func (r *Reader) readAggregate(line []byte, depth int) (Value, error) {
	kind, header := Kind(line[0]), line[1:]
	if depth >= r.maxDepth {
		return Value{}, tooLarge("resp: aggregates nested more than " + strconv.Itoa(r.maxDepth) + " deep")
	}
	if len(header) == 1 && header[0] == '?' {
		return r.readStreamedAggregate(kind, depth)
	}
	n, ok := parseInt(header)
	switch {
	case !ok:
		return Value{}, errorf("resp: bad " + kind.String() + " length " + quote(header))
	case n == -1 && kind == Array:
		return Value{kind: Null, shape: Array}, nil
	case n < 0:
		return Value{}, errorf("resp: negative " + kind.String() + " length " + strconv.FormatInt(n, 10))
	case n > math.MaxInt32:
		return Value{}, tooLarge("resp: " + kind.String() + " length " + strconv.FormatInt(n, 10) + " is beyond any reply")
	}
	count := n // values to read: int64, as twice a map's pairs may not fit an int32
	if kind == Map || kind == Attribute {
		count *= 2
	}
	if count == 0 {
		return Value{kind: kind}, nil
	}
	elems := make([]Value, 0, r.reserve(count))
	for int64(len(elems)) < count {
		v, err := r.readValue(depth+1, false)
		if err != nil {
			if err == io.EOF {
				err = truncated(kind.String() + " of " + strconv.FormatInt(count, 10) + " values after " + strconv.Itoa(len(elems)))
			}
			return Value{}, err
		}
		elems = append(elems, v)
	}
	return Value{kind: kind, elems: elems}, nil
}

// reserve returns the capacity to allocate for an aggregate of count values:
// all of it when the bytes already buffered could hold them (within this
// frame's budget), else a small start that grows as elements arrive.
func (r *Reader) reserve(count int64) int {
	if count <= smallAggregate {
		return int(count)
	}
	if r.budget < 0 {
		r.budget = r.br.Buffered() / minValueLen
	}
	if count <= int64(r.budget) {
		r.budget -= int(count)
		return int(count)
	}
	return smallAggregate
}

// readStreamedAggregate reads the elements of *?, %? or ~? up to the end
// marker ".".
func (r *Reader) readStreamedAggregate(kind Kind, depth int) (Value, error) {
	if kind != Array && kind != Map && kind != Set {
		return Value{}, errorf("resp: " + kind.String() + " cannot be streamed")
	}
	var elems []Value
	for {
		v, err := r.readValue(depth+1, true)
		switch err {
		case nil:
			elems = append(elems, v)
			continue
		case errStreamEnd:
		case io.EOF:
			return Value{}, truncated("streamed " + kind.String() + " after " + strconv.Itoa(len(elems)) + " values")
		default:
			return Value{}, err
		}
		if kind == Map && len(elems)%2 != 0 {
			return Value{}, errorf("resp: streamed map ended after a key without its value")
		}
		return Value{kind: kind, elems: elems}, nil
	}
}

// quote renders wire bytes for an error message, cut to a readable length.
func quote(b []byte) string {
	const most = 32
	if len(b) > most {
		return strconv.Quote(string(b[:most])) + "..."
	}
	return strconv.Quote(string(b))
}
