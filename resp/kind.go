package resp

import "strconv"

// Kind is a RESP type, named by the byte that opens it on the wire.
type Kind byte

// The fifteen RESP3 types. RESP2 uses the first five; its null bulk string
// ($-1) and null array (*-1) decode as Null.
const (
	SimpleString Kind = '+'
	SimpleError  Kind = '-'
	Integer      Kind = ':'
	BulkString   Kind = '$'
	Array        Kind = '*'
	Null         Kind = '_'
	Boolean      Kind = '#'
	Double       Kind = ','
	BigNumber    Kind = '('
	BulkError    Kind = '!'
	Verbatim     Kind = '='
	Map          Kind = '%'
	Set          Kind = '~'
	Attribute    Kind = '|'
	Push         Kind = '>'
)

// kindNames is indexed by the type byte; an empty entry is not a RESP type.
var kindNames = [...]string{
	SimpleString: "simple string",
	SimpleError:  "simple error",
	Integer:      "integer",
	BulkString:   "bulk string",
	Array:        "array",
	Null:         "null",
	Boolean:      "boolean",
	Double:       "double",
	BigNumber:    "big number",
	BulkError:    "bulk error",
	Verbatim:     "verbatim string",
	Map:          "map",
	Set:          "set",
	Attribute:    "attribute",
	Push:         "push",
}

// String returns the type's name as the RESP3 specification spells it, such
// as "bulk string", or "Kind(0x41)" for a byte that is no RESP type.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(0x" + strconv.FormatUint(uint64(k), 16) + ")"
}

// scalar reports whether k is a type whose whole value is its first line:
// simple strings and errors, integers, nulls, booleans, doubles and big
// numbers.
func (k Kind) scalar() bool {
	switch k {
	case SimpleString, SimpleError, Integer, Null, Boolean, Double, BigNumber:
		return true
	}
	return false
}
