package resp

import (
	"io"
	"math"
	"strconv"
	"unsafe"
)

const (
	// bodyStep is the longest body allocated whole as soon as its header is
	// read, and the size of the chunks a longer body's proof is read into.
	bodyStep = 64 << 10
	// proofShare sets how much of a longer body must arrive before the
	// whole of it is allocated: 1/proofShare. Until then its bytes go into
	// chunks (see bodychunks.go), so a peer that declares a length and
	// stops short makes the Reader allocate at most about proofShare+1
	// times what it sent (plus one chunk); an honest body costs one
	// allocation of its own length and one copy of its first quarter. A
	// body no longer than one the peer sent whole since the last Trim
	// (Reader.proven) needs no proof: it costs its allocation alone, and a
	// peer that stops short of it has made the Reader allocate at most
	// twice what it sent.
	proofShare = 4
)

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
	case n > max(r.maxBulk, DefaultMaxBulkLen):
		// Past what a server sends unless told otherwise: reading past
		// it could mean waiting for terabytes, so the stream is given up.
		return Value{}, r.bulkTooLarge(kind, n)
	case n > r.maxBulk:
		r.refuse(r.bulkTooLarge(kind, n))
	case kind == Verbatim && n < 4:
		r.refuse(errorf("resp: verbatim string of " + strconv.FormatInt(n, 10) + " bytes has no room for its format"))
	}
	r.longest = max(r.longest, int(n))
	if r.skip != nil {
		return Value{}, r.discardBody(n, kind)
	}
	text, err := r.readBody(int(n), kind)
	if err != nil {
		return Value{}, err
	}
	v := Value{kind: kind, str: text}
	if kind == Verbatim {
		if text[3] != ':' {
			return r.refuse(errorf("resp: verbatim string " + quote([]byte(text)) + " lacks the ':' after its format"))
		}
		v.num = 3
	}
	return v, nil
}

// discardBody reads past a body of n bytes and the CRLF after it, keeping
// none of it, for a reply being skipped.
func (r *Reader) discardBody(n int64, kind Kind) error {
	for left := n; left > 0; {
		k, err := r.br.Discard(int(min(left, 1<<30)))
		left -= int64(k)
		if err != nil {
			return r.bodyError(err, kind)
		}
	}
	return r.readCRLF(int(min(n, math.MaxInt)), kind)
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
	var buf []byte
	got := 0
	if n <= max(bodyStep, r.proven) {
		// Short, or no longer than a body the peer sent whole: what
		// this one could cost before it arrives, the peer has paid.
		buf = bodyMemory(n)
	} else {
		var err error
		if buf, got, err = r.readProof(n, kind); err != nil {
			return "", err
		}
	}
	if _, err := r.readFullLong(buf[got:], false); err != nil {
		return "", r.bodyError(err, kind)
	}
	if err := r.readCRLF(n, kind); err != nil {
		return "", err
	}
	r.proven = max(r.proven, n)
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil // buf is ours alone and never written again
}

// readProof reads the first 1/proofShare of a body of n bytes (n > bodyStep)
// into chunks (see Reader.chunk) and then, the peer having shown it is
// sending, returns memory for all n bytes with the first got of them copied
// in.
func (r *Reader) readProof(n int, kind Kind) (buf []byte, got int, err error) {
	var pooled []*[bodyStep]byte // chunks past those the Reader keeps
	defer func() {
		for _, c := range pooled {
			chunks.Put(c)
		}
	}()
	for i := 0; got*proofShare < n; i++ {
		c, fromPool := r.chunk(i)
		if fromPool {
			pooled = append(pooled, c)
		}
		want := min(bodyStep, n-got)
		k, err := r.readFullLong(c[:want], got+want < n)
		got += k
		if err != nil {
			return nil, 0, r.bodyError(err, kind)
		}
	}
	buf = bodyMemory(n)
	off := 0
	for _, c := range r.kept {
		if off >= got {
			break
		}
		off += copy(buf[off:got], c[:])
	}
	for _, c := range pooled {
		off += copy(buf[off:got], c[:])
	}
	return buf, got, nil
}

// readCRLF consumes the CRLF that ends a body of n bytes.
func (r *Reader) readCRLF(n int, kind Kind) error {
	b, err := r.br.Peek(2)
	if err != nil {
		return r.bodyError(err, kind)
	}
	if b[0] != '\r' || b[1] != '\n' {
		return errorf("resp: " + kind.String() + " of " + strconv.Itoa(n) + " bytes not followed by CRLF")
	}
	r.br.Discard(2)
	return nil
}

// appendBody reads n bytes and the CRLF after them onto buf. buf grows as the
// bytes arrive, at most doubling and never past capLimit, so that a peer who
// declares a huge length and sends little makes the Reader allocate little.
func (r *Reader) appendBody(buf []byte, n, capLimit int, kind Kind) ([]byte, error) {
	r.longest = max(r.longest, len(buf)+n)
	for n > 0 {
		step := min(n, bodyStep)
		buf = grow(buf, step, capLimit)
		k, err := r.readFullLong(buf[len(buf):len(buf)+step], n > step)
		buf = buf[:len(buf)+k]
		if err != nil {
			return nil, r.bodyError(err, kind)
		}
		n -= step
	}
	if err := r.readCRLF(len(buf), kind); err != nil {
		return nil, err
	}
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
			if r.skip != nil || len(buf) == 0 {
				return Value{kind: BulkString}, nil
			}
			return Value{kind: BulkString, str: unsafe.String(unsafe.SliceData(buf), len(buf))}, nil
		case r.skip == nil && n > r.maxBulk-int64(len(buf)):
			// No length declared the string's end: skipping it
			// could take forever, so the stream is given up.
			return Value{}, r.bulkTooLarge(BulkString, int64(len(buf))+n)
		}
		if r.skip != nil {
			if err := r.discardBody(n, BulkString); err != nil {
				return Value{}, err
			}
			continue
		}
		if buf, err = r.appendBody(buf, int(n), int(r.maxBulk), BulkString); err != nil {
			return Value{}, err
		}
	}
}
