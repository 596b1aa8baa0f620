package resp

import (
	"math"
	"math/big"
	"slices"
	"strconv"
)

// Value is one RESP reply. It owns its memory: it is safe to keep, copy and
// share between goroutines, and nothing in it refers to a Reader's buffer.
// The zero Value has Kind 0 and is no valid reply.
//
// Slices returned by Elems and Attrs are the Value's own and must not be
// modified.
type Value struct {
	kind Kind
	// shape is the RESP2 form of a null: BulkString for $-1, Array for *-1,
	// 0 for the RESP3 null. AppendValue writes nulls back in their shape.
	shape Kind
	// str holds the payload of the textual kinds (for errors the whole text,
	// for verbatim strings "fmt:text"). Unused otherwise.
	str string
	// num holds Integer, Boolean (0 or 1), the bits of a Double, and the
	// length of a verbatim string's format.
	num   int64
	elems []Value  // Array, Set, Push; Map as keys and values alternating
	attrs *[]Value // attributes that preceded the value, nil when none
}

// Simple strings that Redis sends all the time are shared, so that reading
// them costs no allocation.
const (
	internedOK     = "OK"
	internedPONG   = "PONG"
	internedQUEUED = "QUEUED"
)

// Kind returns the value's RESP type. Every null (RESP3 null, RESP2 null
// bulk string and null array) reports Null.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is a RESP3 null, a RESP2 null bulk string ($-1) or
// a RESP2 null array (*-1).
func (v Value) IsNull() bool { return v.kind == Null }

// Err returns the server error that v carries, as *Error, for a simple error
// or a bulk error, and nil for every other kind.
func (v Value) Err() error {
	if v.kind == SimpleError || v.kind == BulkError {
		return ParseError(v.str)
	}
	return nil
}

// Text returns the text of a simple string, bulk string, verbatim string
// (without its "txt:" format prefix, see Format), double or big number.
func (v Value) Text() (string, error) {
	switch v.kind {
	case SimpleString, BulkString, BigNumber:
		return v.str, nil
	case Verbatim:
		return v.str[v.num+1:], nil
	case Double:
		return string(appendFloat(nil, v.float())), nil
	}
	return "", &kindError{"Text", v.kind}
}

// Format returns the three-byte format of a verbatim string, such as "txt"
// or "mkd".
func (v Value) Format() (string, error) {
	if v.kind != Verbatim {
		return "", &kindError{"Format", v.kind}
	}
	return v.str[:v.num], nil
}

// Int returns an integer, or the integer that a simple string, bulk string or
// verbatim string holds.
func (v Value) Int() (int64, error) {
	switch v.kind {
	case Integer:
		return v.num, nil
	case SimpleString, BulkString, Verbatim:
		s, _ := v.Text()
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, &kindError{"Int", v.kind}
		}
		return n, nil
	}
	return 0, &kindError{"Int", v.kind}
}

// Float returns a double (including inf, -inf and nan), an integer, or the
// number that a simple string, bulk string or verbatim string holds.
func (v Value) Float() (float64, error) {
	switch v.kind {
	case Double:
		return v.float(), nil
	case Integer:
		return float64(v.num), nil
	case SimpleString, BulkString, Verbatim:
		s, _ := v.Text()
		if f, ok := parseDouble(s); ok {
			return f, nil
		}
		return 0, &kindError{"Float", v.kind}
	}
	return 0, &kindError{"Float", v.kind}
}

// Bool returns a boolean, or an integer that is 0 or 1 (how RESP2 answers
// yes-or-no commands).
func (v Value) Bool() (bool, error) {
	switch {
	case v.kind == Boolean:
		return v.num != 0, nil
	case v.kind == Integer && (v.num == 0 || v.num == 1):
		return v.num == 1, nil
	}
	return false, &kindError{"Bool", v.kind}
}

// BigInt returns a big number or an integer as a *big.Int.
func (v Value) BigInt() (*big.Int, error) {
	switch v.kind {
	case Integer:
		return big.NewInt(v.num), nil
	case BigNumber:
		if n, ok := new(big.Int).SetString(v.str, 10); ok {
			return n, nil
		}
	}
	return nil, &kindError{"BigInt", v.kind}
}

// Elems returns the elements of an array, set or push, and the keys and
// values of a map, alternating. It returns nil for every other kind.
func (v Value) Elems() []Value { return v.elems }

// Len returns the number of elements of an array, set or push, the number of
// pairs of a map, the length in bytes of the text of a simple string, bulk
// string, verbatim string, error or big number, and 0 otherwise.
func (v Value) Len() int {
	switch v.kind {
	case Map:
		return len(v.elems) / 2
	case Array, Set, Push:
		return len(v.elems)
	case Verbatim:
		return len(v.str) - int(v.num) - 1
	}
	return len(v.str)
}

// Attrs returns the attributes the server sent before this value, keys and
// values alternating, or nil when there were none.
func (v Value) Attrs() []Value {
	if v.attrs == nil {
		return nil
	}
	return *v.attrs
}

// Equal reports whether v and w are the same reply: same kind, payload,
// elements and attributes. Two NaN doubles are equal; a RESP2 null equals a
// RESP3 null.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind || v.str != w.str || len(v.elems) != len(w.elems) {
		return false
	}
	if v.kind == Double {
		a, b := v.float(), w.float()
		if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
			return false
		}
	} else if v.num != w.num {
		return false
	}
	for i := range v.elems {
		if !v.elems[i].Equal(w.elems[i]) {
			return false
		}
	}
	va, wa := v.Attrs(), w.Attrs()
	if len(va) != len(wa) {
		return false
	}
	for i := range va {
		if !va[i].Equal(wa[i]) {
			return false
		}
	}
	return true
}

func (v Value) float() float64 { return math.Float64frombits(uint64(v.num)) }

// NewSimpleString returns a simple string. AppendValue writes CR and LF in s
// as spaces, as a simple string cannot hold them.
func NewSimpleString(s string) Value { return Value{kind: SimpleString, str: s} }

// NewBulkString returns a bulk string.
func NewBulkString(s string) Value { return Value{kind: BulkString, str: s} }

// NewSimpleError returns a simple error such as "ERR unknown command".
// AppendValue writes CR and LF in text as spaces.
func NewSimpleError(text string) Value { return Value{kind: SimpleError, str: text} }

// NewBulkError returns a bulk error, which may hold any bytes.
func NewBulkError(text string) Value { return Value{kind: BulkError, str: text} }

// NewInt returns an integer.
func NewInt(n int64) Value { return Value{kind: Integer, num: n} }

// NewNull returns the RESP3 null.
func NewNull() Value { return Value{kind: Null} }

// NewNullBulk returns RESP2's null bulk string ($-1). It is a Null that
// AppendValue writes in its RESP2 shape.
func NewNullBulk() Value { return Value{kind: Null, shape: BulkString} }

// NewNullArray returns RESP2's null array (*-1). It is a Null that
// AppendValue writes in its RESP2 shape.
func NewNullArray() Value { return Value{kind: Null, shape: Array} }

// NewBool returns a boolean.
func NewBool(b bool) Value {
	if b {
		return Value{kind: Boolean, num: 1}
	}
	return Value{kind: Boolean}
}

// NewDouble returns a double; inf, -inf and NaN are allowed.
func NewDouble(f float64) Value {
	if math.IsNaN(f) {
		f = math.NaN() // one NaN, so that values compare and encode alike
	}
	return Value{kind: Double, num: int64(math.Float64bits(f))}
}

// NewBigNumber returns a big number; s is its decimal text with an optional
// sign, such as "-3492890328409238509324850943850943825024385".
func NewBigNumber(s string) Value { return Value{kind: BigNumber, str: s} }

// NewVerbatim returns a verbatim string. format is three bytes, such as "txt"
// or "mkd"; NewVerbatim panics otherwise, as the wire form cannot hold it.
func NewVerbatim(format, text string) Value {
	if len(format) != 3 {
		panic("resp: NewVerbatim format must be three bytes, got " + strconv.Quote(format))
	}
	return Value{kind: Verbatim, str: format + ":" + text, num: 3}
}

// NewArray returns an array of copies of elems.
func NewArray(elems ...Value) Value { return Value{kind: Array, elems: clone(elems)} }

// NewSet returns a set of copies of elems.
func NewSet(elems ...Value) Value { return Value{kind: Set, elems: clone(elems)} }

// NewPush returns a push frame of copies of elems, such as
// NewPush(NewBulkString("message"), NewBulkString("ch"), NewBulkString("hi")).
func NewPush(elems ...Value) Value { return Value{kind: Push, elems: clone(elems)} }

// NewMap returns a map of keys and values, alternating. It panics when kv has
// an odd length.
func NewMap(kv ...Value) Value {
	if len(kv)%2 != 0 {
		panic("resp: NewMap needs keys and values in pairs, got " + strconv.Itoa(len(kv)) + " values")
	}
	return Value{kind: Map, elems: clone(kv)}
}

// WithAttrs returns a copy of v carrying the attributes kv, keys and values
// alternating, in place of any it had. It panics when kv has an odd length.
func (v Value) WithAttrs(kv ...Value) Value {
	if len(kv)%2 != 0 {
		panic("resp: WithAttrs needs keys and values in pairs, got " + strconv.Itoa(len(kv)) + " values")
	}
	if len(kv) == 0 {
		v.attrs = nil
		return v
	}
	return v.withAttrList(slices.Clone(kv))
}

// withAttrList returns v carrying attrs, which it takes over.
func (v Value) withAttrList(attrs []Value) Value {
	v.attrs = &attrs
	return v
}

func clone(elems []Value) []Value {
	if len(elems) == 0 {
		return nil
	}
	return slices.Clone(elems)
}

// ArrayOf returns an array that holds elems itself, not a copy of it, for
// a caller that builds the elements in a slice of its own and never touches
// it again. NewArray copies.
func ArrayOf(elems []Value) Value {
	if len(elems) == 0 {
		elems = nil
	}
	return Value{kind: Array, elems: elems}
}
