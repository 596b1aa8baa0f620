package resp

import (
	"errors"
	"strconv"
)

// ErrNull is wrapped by the error of every accessor and reply helper called
// on a null: RESP3's null, RESP2's null bulk string (GET of a missing key)
// and null array (BLPOP that timed out), and a null element where a helper
// wants a value. So a missing key is errors.Is(err, resp.ErrNull), with no
// error text to compare. The same errors wrap ErrWrongKind as well, since a
// null holds nothing of any kind. An empty string or an empty array is not
// null: its helpers return "" or an empty, non-nil slice or map.
var ErrNull = errors.New("resp: null")

// The reply helpers below read whole replies into Go values: Bytes a string
// reply; Strings, Int64s and Float64s an array, set or push of scalars;
// StringMap a map, or a RESP2 flat array of keys and values (HGETALL,
// CONFIG GET). Each returns:
//
//   - the *Error itself when v is an error reply, so that
//     v, err := c.Do(...); s, err := v.Strings() needs one check;
//   - an error wrapping ErrNull (and ErrWrongKind) when v, or an element,
//     is null;
//   - an error wrapping ErrWrongKind for any other shape, naming the
//     element that did not fit.

// Bytes returns a copy of the text of a simple string, bulk string,
// verbatim string (without its format prefix), double or big number: the
// bytes of a string reply, binary-safe.
func (v Value) Bytes() ([]byte, error) {
	if err := v.Err(); err != nil {
		return nil, err
	}
	s, err := v.Text()
	if err != nil {
		return nil, &kindError{"Bytes", v.kind}
	}
	return []byte(s), nil
}

// Strings returns the elements of an array, set or push as strings, each
// read as Text reads it (strings, verbatim strings, doubles, big numbers):
// LRANGE, SMEMBERS, KEYS. Integer elements are refused; a null element
// (MGET of a missing key) fails with ErrNull: read such replies with Elems
// and IsNull.
func (v Value) Strings() ([]string, error) {
	return collect(v, "Strings", Value.Text)
}

// Int64s returns the elements of an array, set or push as integers, each
// read as Int reads it (integers, or strings that hold one): SMISMEMBER,
// BITFIELD, a list of numbers.
func (v Value) Int64s() ([]int64, error) {
	return collect(v, "Int64s", Value.Int)
}

// Float64s returns the elements of an array, set or push as float64s, each
// read as Float reads it (doubles, integers, or strings that hold a
// number): ZMSCORE in RESP3 (doubles) and in RESP2 (bulk strings) alike.
func (v Value) Float64s() ([]float64, error) {
	return collect(v, "Float64s", Value.Float)
}

// StringMap returns a map of keys and values, both read as Text reads them:
// a RESP3 map, or the flat array of keys and values alternating that RESP2
// sends for the same commands (HGETALL, CONFIG GET, XINFO's fields). A key
// given twice keeps its last value. An array of odd length, or a key or value
// that is not a string (or is null), fails.
func (v Value) StringMap() (map[string]string, error) {
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch v.kind {
	case Map:
	case Array:
		if len(v.elems)%2 != 0 {
			return nil, &shapeError{method: "StringMap", msg: "an array of " + strconv.Itoa(len(v.elems)) + " elements is no list of keys and values"}
		}
	default:
		return nil, &kindError{"StringMap", v.kind}
	}
	m := make(map[string]string, len(v.elems)/2)
	for i := 0; i < len(v.elems); i += 2 {
		key, err := v.elems[i].Text()
		if err != nil {
			return nil, elementError("StringMap", i, v.elems[i])
		}
		val, err := v.elems[i+1].Text()
		if err != nil {
			return nil, elementError("StringMap", i+1, v.elems[i+1])
		}
		m[key] = val
	}
	return m, nil
}

// collect converts every element of an array, set or push with get.
func collect[T any](v Value, method string, get func(Value) (T, error)) ([]T, error) {
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch v.kind {
	case Array, Set, Push:
	default:
		return nil, &kindError{method, v.kind}
	}
	out := make([]T, len(v.elems))
	for i, e := range v.elems {
		x, err := get(e)
		if err != nil {
			return nil, elementError(method, i, e)
		}
		out[i] = x
	}
	return out, nil
}

// elementError reports element i, e, that a helper could not convert:
// "resp: Int64s: element 2 is the bulk string \"abc\"".
func elementError(method string, i int, e Value) error {
	var what string
	switch e.kind {
	case Null:
		what = "null"
	case SimpleString, BulkString, Verbatim:
		text, _ := e.Text()
		what = "the " + e.kind.String() + " " + quote([]byte(text))
	default:
		what = "of kind " + e.kind.String()
	}
	return &shapeError{method: method, msg: "element " + strconv.Itoa(i) + " is " + what, elem: e.kind}
}

// shapeError is what a helper returns for a reply of the right kind whose
// shape or elements do not fit. It wraps ErrWrongKind, and ErrNull too when
// the element at fault is null.
type shapeError struct {
	method, msg string
	elem        Kind
}

func (e *shapeError) Error() string { return "resp: " + e.method + ": " + e.msg }

func (e *shapeError) Unwrap() []error {
	if e.elem == Null {
		return wrapNull
	}
	return wrapWrongKind
}
