package resp

import (
	"io"
	"strconv"
	"unsafe"
)

// bodyStep is how much of a large bulk string is allocated ahead of the bytes
// that have arrived.
const bodyStep = 64 << 10

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
