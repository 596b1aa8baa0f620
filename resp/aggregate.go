package resp

import (
	"io"
	"math"
	"strconv"
)

const (
	// minValueLen is the fewest bytes a value takes on the wire ("_\r\n"): a
	// peer that declares count elements must send at least count*minValueLen
	// bytes, which bounds how much the Reader reserves ahead of them.
	minValueLen = 3
	// smallAggregate is the capacity reserved for an aggregate whose declared
	// count is not yet backed by buffered bytes; it then grows by appending.
	smallAggregate = 16
)

// readAggregate reads the elements of an array, set, push, map or attribute
// whose header line is line. depth counts the aggregates around it.
func (r *Reader) readAggregate(line []byte, depth int) (Value, error) {
	kind, header := Kind(line[0]), line[1:]
	if len(header) == 1 && header[0] == '?' {
		if err := r.checkDepth(depth); err != nil {
			return Value{}, err
		}
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
	if err := r.checkDepth(depth); err != nil {
		return Value{}, err
	}
	elems := make([]Value, 0, r.reserve(count))
	for int64(len(elems)) < count {
		if v, ok := r.readBuffered(); ok {
			elems = append(elems, v)
			continue
		}
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

// checkDepth refuses elements below an aggregate at depth when that would
// nest deeper than the limit; empty aggregates and nulls nest nothing.
func (r *Reader) checkDepth(depth int) error {
	if depth >= r.maxDepth {
		return tooLarge("resp: aggregates nested more than " + strconv.Itoa(r.maxDepth) + " deep")
	}
	return nil
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
