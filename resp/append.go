package resp

import "strconv"

// AppendCommand appends a command to dst in the form Redis reads commands, an
// array of bulk strings (*N\r\n$len\r\narg\r\n...), and returns the extended
// buffer. It allocates only when dst lacks the room.
func AppendCommand(dst []byte, args ...string) []byte {
	dst = appendHeader(dst, Array, len(args))
	for _, arg := range args {
		dst = AppendBulkString(dst, arg)
	}
	return dst
}

// AppendCommandBytes is AppendCommand for arguments held as byte slices.
func AppendCommandBytes(dst []byte, args ...[]byte) []byte {
	dst = appendHeader(dst, Array, len(args))
	for _, arg := range args {
		dst = appendHeader(dst, BulkString, len(arg))
		dst = append(dst, arg...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// AppendBulkString appends the bulk string s.
func AppendBulkString(dst []byte, s string) []byte {
	dst = appendHeader(dst, BulkString, len(s))
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendBulkHeader appends the header of a bulk string of n bytes, $n\r\n,
// for a writer that sends the n bytes and their closing CRLF on its own
// (conn writes a big argument from the caller's string instead of copying it
// behind its header).
func AppendBulkHeader(dst []byte, n int) []byte { return appendHeader(dst, BulkString, n) }

// AppendSimpleString appends the simple string s, with any CR or LF in it
// written as a space, since a simple string ends at the first CRLF.
func AppendSimpleString(dst []byte, s string) []byte {
	return appendLine(dst, SimpleString, s)
}

// AppendSimpleError appends the simple error text, such as "ERR no such key",
// with any CR or LF in it written as a space (as Redis itself does).
func AppendSimpleError(dst []byte, text string) []byte {
	return appendLine(dst, SimpleError, text)
}

// AppendBulkError appends the bulk error text, which may hold any bytes.
func AppendBulkError(dst []byte, text string) []byte {
	dst = appendHeader(dst, BulkError, len(text))
	dst = append(dst, text...)
	return append(dst, '\r', '\n')
}

// AppendVerbatim appends a verbatim string with its three-byte format, such
// as "txt" or "mkd".
func AppendVerbatim(dst []byte, format, text string) []byte {
	dst = appendHeader(dst, Verbatim, len(format)+1+len(text))
	dst = append(dst, format...)
	dst = append(dst, ':')
	dst = append(dst, text...)
	return append(dst, '\r', '\n')
}

// AppendInt appends the integer n.
func AppendInt(dst []byte, n int64) []byte {
	dst = append(dst, byte(Integer))
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// AppendNull appends the RESP3 null.
func AppendNull(dst []byte) []byte { return append(dst, "_\r\n"...) }

// AppendNullBulk appends RESP2's null bulk string, $-1.
func AppendNullBulk(dst []byte) []byte { return append(dst, "$-1\r\n"...) }

// AppendNullArray appends RESP2's null array, *-1.
func AppendNullArray(dst []byte) []byte { return append(dst, "*-1\r\n"...) }

// AppendBool appends #t or #f.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "#t\r\n"...)
	}
	return append(dst, "#f\r\n"...)
}

// AppendDouble appends the double f: inf, -inf, nan, or the shortest decimal
// that reads back as f.
func AppendDouble(dst []byte, f float64) []byte {
	dst = append(dst, byte(Double))
	dst = appendFloat(dst, f)
	return append(dst, '\r', '\n')
}

// AppendBigNumber appends the big number whose decimal text is s.
func AppendBigNumber(dst []byte, s string) []byte {
	return appendLine(dst, BigNumber, s)
}

// AppendArrayHeader appends the header of an array of n elements, which the
// caller appends next. The Map, Set, Push and Attribute variants do the same
// for their kinds; n counts pairs for maps and attributes.
func AppendArrayHeader(dst []byte, n int) []byte { return appendHeader(dst, Array, n) }

// AppendMapHeader appends the header of a map of n key-value pairs.
func AppendMapHeader(dst []byte, n int) []byte { return appendHeader(dst, Map, n) }

// AppendSetHeader appends the header of a set of n elements.
func AppendSetHeader(dst []byte, n int) []byte { return appendHeader(dst, Set, n) }

// AppendPushHeader appends the header of a push frame of n elements.
func AppendPushHeader(dst []byte, n int) []byte { return appendHeader(dst, Push, n) }

// AppendAttributeHeader appends the header of an attribute of n key-value
// pairs; the pairs and then the value they describe follow.
func AppendAttributeHeader(dst []byte, n int) []byte { return appendHeader(dst, Attribute, n) }

// AppendValue appends v in RESP3, attributes included. A RESP2 null (see
// NewNullBulk, NewNullArray) keeps its RESP2 shape.
func AppendValue(dst []byte, v Value) []byte {
	if attrs := v.Attrs(); len(attrs) > 0 {
		dst = appendHeader(dst, Attribute, len(attrs)/2)
		for _, a := range attrs {
			dst = AppendValue(dst, a)
		}
	}
	switch v.kind {
	case SimpleString, SimpleError, BigNumber:
		return appendLine(dst, v.kind, v.str)
	case BulkString, BulkError, Verbatim:
		dst = appendHeader(dst, v.kind, len(v.str))
		dst = append(dst, v.str...)
		return append(dst, '\r', '\n')
	case Integer:
		return AppendInt(dst, v.num)
	case Boolean:
		return AppendBool(dst, v.num != 0)
	case Double:
		return AppendDouble(dst, v.float())
	case Null:
		switch v.shape {
		case BulkString:
			return AppendNullBulk(dst)
		case Array:
			return AppendNullArray(dst)
		}
		return AppendNull(dst)
	case Map:
		dst = appendHeader(dst, Map, len(v.elems)/2)
	case Array, Set, Push:
		dst = appendHeader(dst, v.kind, len(v.elems))
	default:
		// The zero Value: write a null rather than an invalid frame.
		return AppendNull(dst)
	}
	for _, e := range v.elems {
		dst = AppendValue(dst, e)
	}
	return dst
}

// AppendValue2 appends v in the shapes RESP2 has, the way Redis answers a
// RESP2 client: nulls as $-1 (*-1 for a null array), booleans as 0 or 1,
// doubles, big numbers and verbatim strings as bulk strings (verbatim without
// its format), bulk errors as simple errors, maps as flat arrays of keys and
// values, sets and pushes as arrays. Attributes are dropped.
func AppendValue2(dst []byte, v Value) []byte {
	switch v.kind {
	case SimpleString, SimpleError, BulkString, Integer:
		return AppendValue(dst, v.WithAttrs())
	case BulkError:
		return appendLine(dst, SimpleError, v.str)
	case Verbatim, BigNumber, Double:
		text, _ := v.Text()
		return AppendBulkString(dst, text)
	case Boolean:
		return AppendInt(dst, v.num)
	case Null:
		if v.shape == Array {
			return AppendNullArray(dst)
		}
		return AppendNullBulk(dst)
	case Array, Set, Push, Map:
		dst = appendHeader(dst, Array, len(v.elems))
		for _, e := range v.elems {
			dst = AppendValue2(dst, e)
		}
		return dst
	}
	return AppendNullBulk(dst)
}

// appendHeader appends a type byte, a decimal count and CRLF.
func appendHeader(dst []byte, kind Kind, n int) []byte {
	// Most commands and replies: argument counts, names, keys and small
	// values are shorter than 100, written without the conversion.
	switch {
	case n >= 0 && n < 10:
		return append(dst, byte(kind), byte('0'+n), '\r', '\n')
	case n >= 10 && n < 100:
		return append(dst, byte(kind), byte('0'+n/10), byte('0'+n%10), '\r', '\n')
	}
	dst = append(dst, byte(kind))
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}

// appendLine appends a one-line value, writing CR and LF as spaces.
func appendLine(dst []byte, kind Kind, s string) []byte {
	dst = append(dst, byte(kind))
	start := len(dst)
	dst = append(dst, s...)
	for i := start; i < len(dst); i++ {
		if dst[i] == '\r' || dst[i] == '\n' {
			dst[i] = ' '
		}
	}
	return append(dst, '\r', '\n')
}
