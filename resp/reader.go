package resp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
)

// Limits a Reader applies unless told otherwise.
const (
	// DefaultMaxBulkLen is the longest bulk string, bulk error, verbatim
	// string or line a Reader accepts: 512 MiB, Redis's own proto-max-bulk-len.
	DefaultMaxBulkLen = 512 << 20

	// DefaultMaxDepth is how deeply aggregates (arrays, maps, sets, pushes,
	// attributes) may nest. Redis's own replies nest a few levels (CLUSTER
	// SHARDS and XINFO STREAM FULL about five), so 128 is far past any of
	// them, while it keeps the decoder's recursion, and so its goroutine
	// stack, to tens of KiB against a peer that opens a million arrays. A
	// script returning more deeply nested tables needs SetMaxDepth.
	DefaultMaxDepth = 128
)

// errStreamEnd is how readValue reports the "." that closes a streamed
// aggregate; it never leaves the package.
var errStreamEnd = errors.New("resp: end of streamed aggregate")

// Reader decodes RESP3 and RESP2 values from a byte stream. It is not safe
// for concurrent use. After Read returns a *SkippedError the Reader is in
// step and the next Read returns the next reply; after any other error but
// io.EOF the stream is out of step: discard the Reader.
type Reader struct {
	br *bufio.Reader
	// src is what the Reader reads, kept so that Resize can give a new
	// buffer the same source; carry holds what an old buffer still had
	// (see Resize).
	src      io.Reader
	carry    carryReader
	maxBulk  int64
	maxDepth int
	// budget is how many elements the aggregates of the current frame may
	// still reserve up front, from the bytes already buffered; -1 until the
	// frame's first large aggregate computes it.
	budget int
	// elems counts the elements of the current frame; maxElems bounds them
	// (0 for DefaultMaxElements). See aggregate.go.
	elems    int
	maxElems int
	// skip is why the current reply cannot be kept, nil while it can: once
	// set, the rest of the reply is read and dropped (see refuse), and
	// frameKind, the type of the reply, names it in the SkippedError.
	skip      error
	frameKind Kind
	// body is the source ReadBulkTo gives a writer's ReadFrom, kept here
	// so that handing it over allocates nothing.
	body bodySource
	// kept holds the chunks long bodies were read into (see chunk);
	// proven is the longest body read whole since the last Trim, which a
	// body may be as long as without a proof (see proofShare).
	kept   []*[bodyStep]byte
	proven int
	// longest is the longest bulk body read since LongestBody last
	// reported.
	longest int
	// slab is where ReadRun copies small bulk strings, shared by the
	// values of a run (see runString).
	slab []byte
	// share: the run being read puts small strings in the slab, and the
	// elements of its arrays in runElems (see settleElems).
	share bool
	// runElems holds the elements of the arrays of the run being read
	// with share, at most runElemSlab, until settleElems moves them.
	runElems []Value
}

// NewReader returns a Reader with a 4 KiB buffer on r.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, 4096) }

// NewReaderSize returns a Reader whose buffer holds at least size bytes. Bulk
// strings that fit in the buffer are copied out of it with one allocation;
// larger ones are read straight into memory of their own, also one
// allocation: up to 64 KiB, or up to the longest body read whole since the
// last Trim, as soon as the header is read; beyond that once a quarter of
// the body has arrived (held meanwhile in 64 KiB chunks, which the Reader
// keeps for the next long body until Trim).
func NewReaderSize(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, size), src: r, maxBulk: DefaultMaxBulkLen, maxDepth: DefaultMaxDepth}
}

// Reset discards buffered data and makes the Reader read from rd, keeping
// its buffer, its chunks and its limits; what the old source proved by the
// bodies it sent whole does not carry over (see NewReaderSize).
func (r *Reader) Reset(rd io.Reader) {
	r.br.Reset(rd)
	r.src, r.carry = rd, carryReader{}
	r.proven = 0
}

// Size returns the size of the Reader's buffer.
func (r *Reader) Size() int { return r.br.Size() }

// Resize gives the Reader a buffer of at least size bytes in place of its
// own, keeping its source, its limits and the bytes buffered: a busy
// connection takes more replies per read into a bigger buffer, and an idle
// one goes back to a small one. It does no I/O. The buffers come from a
// pool shared by every Reader (see readBuffers); the old one goes back there
// at once when it holds nothing, and otherwise once the new buffer has read
// the bytes it held. Call it between frames only.
func (r *Reader) Resize(size int) {
	if size == r.br.Size() {
		return
	}
	left, _ := r.br.Peek(r.br.Buffered()) // no I/O: only what is buffered
	old := r.br
	if len(r.carry.rest) > 0 {
		// Still carrying bytes from an earlier Resize: they come after
		// the buffered ones, in a copy that needs neither buffer.
		left = append(left[:len(left):len(left)], r.carry.rest...)
		r.carry.release()
		putReadBuffer(old)
		old = nil
	}
	if len(left) == 0 {
		putReadBuffer(old)
		r.carry = carryReader{src: r.src}
		r.br = getReadBuffer(r.src, size)
		return
	}
	r.carry = carryReader{rest: left, src: r.src, owner: old}
	r.br = getReadBuffer(&r.carry, size)
}

// carryReader is the source of a buffer that Resize replaced while it held
// bytes: those first, then the Reader's own source. owner is the buffer
// they lie in, if any, pooled once they are read.
type carryReader struct {
	rest  []byte
	src   io.Reader
	owner *bufio.Reader
}

func (c *carryReader) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		return c.src.Read(p)
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	if len(c.rest) == 0 {
		c.release()
	}
	return n, nil
}

// release pools the buffer the carried bytes lay in, now that nothing
// reads them there.
func (c *carryReader) release() {
	c.rest = nil
	putReadBuffer(c.owner)
	c.owner = nil
}

// Buffered returns how many bytes are buffered and not yet decoded.
func (r *Reader) Buffered() int { return r.br.Buffered() + len(r.carry.rest) }

// WaitFrame blocks until the first byte of the next frame is buffered,
// reading from the underlying reader if need be, and consumes nothing. It
// returns that reader's error when none comes: io.EOF when the stream ended
// at the frame boundary.
func (r *Reader) WaitFrame() error {
	if r.Buffered() > 0 {
		return nil
	}
	_, err := r.br.Peek(1)
	return err
}

// PeekKind returns the first byte of the next frame, its Kind (or Attribute
// when attributes come first), if that byte is already buffered; else 0. It
// does no I/O and consumes nothing.
func (r *Reader) PeekKind() Kind {
	if r.br.Buffered() == 0 {
		if len(r.carry.rest) > 0 {
			return Kind(r.carry.rest[0])
		}
		return 0
	}
	b, _ := r.br.Peek(1)
	return Kind(b[0])
}

// SetMaxBulkLen sets the longest bulk string, bulk error, verbatim string,
// streamed string (all chunks together) or line the Reader accepts. Longer
// input fails with an error wrapping ErrTooLarge before anything is allocated
// for it. A longer bulk string, bulk error or verbatim string (whose length
// is declared) of up to DefaultMaxBulkLen bytes is read past and dropped,
// with the rest of its reply: Read returns a *SkippedError and the Reader
// stays in step. Longer than both breaks the stream. n <= 0 restores
// DefaultMaxBulkLen.
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
// wrapping ErrProtocol. A reply over SetMaxElements or SetMaxBulkLen by a
// declared length, or holding a malformed scalar, is read to its end and
// dropped: Read returns a *SkippedError and the stream stays in step (see
// SkippedError). Errors of
// the underlying reader are returned as they are, wrapped with the reason
// when they strike while a reply is being skipped.
func (r *Reader) Read() (Value, error) {
	if v, ok := r.readBuffered(); ok {
		return v, nil
	}
	r.startFrame()
	return r.endFrame(r.readValue(0, false))
}

// startFrame resets the per-frame state before a frame is decoded.
func (r *Reader) startFrame() { r.budget, r.elems, r.skip = -1, 0, nil }

// endFrame turns what decoding a frame gave into what Read returns: a reply
// that was refused becomes a *SkippedError, an error that struck while
// skipping says so.
func (r *Reader) endFrame(v Value, err error) (Value, error) {
	switch {
	case r.skip == nil:
		return v, err
	case err != nil:
		return Value{}, whileSkipping(err, r.skip)
	}
	return Value{}, &SkippedError{Kind: r.frameKind, Err: r.skip}
}

// refuse marks the current reply as one to read past and drop, for reason
// (the first reason given wins), and returns the zero Value that stands for
// the part refused.
func (r *Reader) refuse(reason error) (Value, error) {
	if r.skip == nil {
		r.skip = reason
	}
	return Value{}, nil
}

// readBuffered decodes the replies a connection sees most, a bulk string, a
// simple string, an integer or a null, when the whole frame is already in the
// buffer: one pass over the buffered bytes, no copies of the line. Anything
// else, including anything malformed, is left to readValue (ok is false and
// nothing has been consumed).
func (r *Reader) readBuffered() (v Value, ok bool) {
	b, _ := r.br.Peek(r.br.Buffered()) // no I/O: only what is buffered
	if len(b) < 3 {
		return Value{}, false
	}
	end := bytes.IndexByte(b, '\n')
	if end < 2 || b[end-1] != '\r' {
		return Value{}, false
	}
	line := b[1 : end-1]
	switch Kind(b[0]) {
	case BulkString:
		n, ok := parseInt(line)
		if n == -1 && ok {
			r.br.Discard(end + 1)
			return Value{kind: Null, shape: BulkString}, true
		}
		if !ok || n < 0 || n > r.maxBulk || int64(len(b)-end-1) < n+2 {
			return Value{}, false
		}
		body := b[end+1:]
		if body[n] != '\r' || body[n+1] != '\n' {
			return Value{}, false
		}
		r.longest = max(r.longest, int(n))
		v = Value{kind: BulkString, str: string(body[:n])}
		r.br.Discard(end + 1 + int(n) + 2)
		return v, true
	case SimpleString:
		if bytes.IndexByte(line, '\r') >= 0 {
			return Value{}, false
		}
		v = Value{kind: SimpleString, str: simpleText(line)}
	case Integer:
		n, ok := parseInt(line)
		if !ok {
			return Value{}, false
		}
		v = Value{kind: Integer, num: n}
	case Null:
		if len(line) != 0 {
			return Value{}, false
		}
		v = Value{kind: Null}
	default:
		return Value{}, false
	}
	r.br.Discard(end + 1)
	return v, true
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
		if line[0] == '.' && len(line) == 1 && inStream {
			if attrs != nil {
				return Value{}, errorf("resp: attribute before the end marker '.' of a streamed aggregate")
			}
			return Value{}, errStreamEnd
		}
		if depth == 0 {
			r.frameKind = Kind(line[0])
		}
		v, err := r.readAfterLine(line, depth)
		if len(attrs) > 0 {
			v = v.withAttrList(attrs)
		}
		return v, err
	}
}

// readAfterLine decodes the value whose first line (type byte included, CRLF
// not) is line, reading its body and elements if it has any. A scalar whose
// line is whole but malformed is refused (see refuse): the framing holds, so
// only its reply is lost. While a reply is being skipped, scalars are not
// decoded at all.
func (r *Reader) readAfterLine(line []byte, depth int) (Value, error) {
	kind, payload := Kind(line[0]), line[1:]
	if r.skip != nil && kind.scalar() {
		return Value{}, nil
	}
	switch kind {
	case SimpleString:
		if bytes.IndexByte(payload, '\r') >= 0 {
			return r.refuse(errorf("resp: simple string " + quote(payload) + " holds a CR"))
		}
		return Value{kind: SimpleString, str: simpleText(payload)}, nil
	case SimpleError:
		if bytes.IndexByte(payload, '\r') >= 0 {
			return r.refuse(errorf("resp: simple error " + quote(payload) + " holds a CR"))
		}
		return Value{kind: SimpleError, str: string(payload)}, nil
	case Integer:
		n, ok := parseInt(payload)
		if !ok {
			return r.refuse(errorf("resp: bad integer " + quote(payload)))
		}
		return Value{kind: Integer, num: n}, nil
	case Null:
		if len(payload) != 0 {
			return r.refuse(errorf("resp: bad null " + quote(line)))
		}
		return Value{kind: Null}, nil
	case Boolean:
		if len(payload) == 1 && (payload[0] == 't' || payload[0] == 'f') {
			return NewBool(payload[0] == 't'), nil
		}
		return r.refuse(errorf("resp: bad boolean " + quote(payload) + ", want t or f"))
	case Double:
		f, ok := parseDouble(borrow(payload))
		if !ok {
			return r.refuse(errorf("resp: bad double " + quote(payload)))
		}
		return NewDouble(f), nil
	case BigNumber:
		if !isBigNumber(payload) {
			return r.refuse(errorf("resp: bad big number " + quote(payload)))
		}
		return Value{kind: BigNumber, str: string(payload)}, nil
	case BulkString, BulkError, Verbatim:
		return r.readBulk(kind, payload)
	case Array, Set, Push, Map:
		return r.readAggregate(line, depth)
	case '.':
		return Value{}, errorf("resp: end marker '.' outside a streamed aggregate")
	}
	return Value{}, errorf("resp: unknown type byte " + quoteByte(line[0]))
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
// read, in memory of its own that grows with the bytes that arrive. While a
// reply is being skipped, a long simple string, error, double or other
// scalar is read past instead: what it returns then is only its type byte. A line over the limit breaks the stream: no
// length declared its end, so skipping it could take forever.
func (r *Reader) readLongLine(first []byte) ([]byte, error) {
	limit := int(r.maxBulk) + 2 // the text and its CRLF
	line := append([]byte(nil), first...)
	for {
		more, err := r.br.ReadSlice('\n')
		if r.skip != nil && Kind(line[0]).scalar() {
			if err := r.discardLine(line[len(line)-1], more, err); err != nil {
				return nil, err
			}
			return line[:1], nil
		}
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

// discardLine reads past the rest of a long line, keeping none of it: more
// is the piece ReadSlice just returned with err, and last is the byte before
// it.
func (r *Reader) discardLine(last byte, more []byte, err error) error {
	for {
		switch err {
		case nil:
			if len(more) >= 2 {
				last = more[len(more)-2]
			}
			if last != '\r' {
				return errorf("resp: long line ends in LF without CR")
			}
			return nil
		case bufio.ErrBufferFull:
		case io.EOF:
			return truncated("a long line")
		default:
			return err
		}
		last = more[len(more)-1]
		more, err = r.br.ReadSlice('\n')
	}
}

// quoteByte renders one wire byte for an error message: '@' or 0xff.
func quoteByte(c byte) string {
	if c > ' ' && c <= '~' {
		return "'" + string(rune(c)) + "'"
	}
	return "0x" + strconv.FormatUint(uint64(c), 16)
}

// quote renders wire bytes for an error message, cut to a readable length.
func quote(b []byte) string {
	const most = 32
	if len(b) > most {
		return strconv.Quote(string(b[:most])) + "..."
	}
	return strconv.Quote(string(b))
}
