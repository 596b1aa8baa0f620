package resp

import (
	"io"
	"math"
	"strconv"
)

// DefaultMaxElements is how many elements, at every depth together, one
// reply may hold unless SetMaxElements says otherwise: 1<<24, about 16.8
// million, whose decoded Values alone take 1 GiB, twice the default bulk
// limit. Replies that large (KEYS, SMEMBERS or HGETALL over millions of
// entries) are better fetched piecewise with SCAN; a client that must read
// them in one piece raises the limit.
const DefaultMaxElements = 1 << 24

const (
	// minValueLen is the fewest bytes a value takes on the wire ("_\r\n"): a
	// peer that declares count elements must send at least count*minValueLen
	// bytes, which bounds how much the Reader reserves ahead of them.
	minValueLen = 3
	// smallAggregate is how many elements a counted aggregate may reserve
	// that no buffered bytes back yet: a smaller one reserves its count, a
	// larger one this many or what the buffered bytes justify, and then
	// grows by doubling as elements arrive.
	smallAggregate = 16
)

// SetMaxElements sets how many elements one reply may hold, counting the
// elements of every aggregate and attribute in it (a map's keys and values
// both count). A reply that declares more is read to its end without being
// kept, and Read returns a *SkippedError wrapping ErrTooLarge; nothing is
// allocated for a declared count over the limit. A streamed aggregate (*?)
// that goes past the limit fails with ErrTooLarge and breaks the stream, as
// no count declared its end. n <= 0 restores DefaultMaxElements.
func (r *Reader) SetMaxElements(n int) {
	if n <= 0 {
		n = DefaultMaxElements
	}
	r.maxElems = n
}

// elementLimit returns the reply's element limit.
func (r *Reader) elementLimit() int {
	if r.maxElems <= 0 {
		return DefaultMaxElements
	}
	return r.maxElems
}

// countElements charges n more elements to the current reply.
func (r *Reader) countElements(n int64) error {
	limit := r.elementLimit()
	if n > int64(limit-r.elems) {
		return tooLarge("resp: reply holds more than the limit of " + strconv.Itoa(limit) + " elements")
	}
	r.elems += int(n)
	return nil
}

// readAggregate reads the elements of an array, set, push, map or attribute
// whose header line is line. depth counts the aggregates around it. Over the
// element limit, or when one of its elements is refused, it reads past the
// rest of its elements (see refuse).
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
	if r.skip == nil {
		if err := r.countElements(count); err != nil {
			r.refuse(err)
		}
	}
	if r.skip != nil {
		return Value{}, r.skipValues(kind, count, 0, depth)
	}
	elems := make([]Value, 0, r.reserve(int(count)))
	for len(elems) < int(count) {
		if len(elems) == cap(elems) {
			elems = growElems(elems, int(count))
		}
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
		if r.skip != nil {
			return Value{}, r.skipValues(kind, count, int64(len(elems))+1, depth)
		}
		elems = append(elems, v)
	}
	return Value{kind: kind, elems: elems}, nil
}

// skipValues reads past the values of an aggregate of count at depth from
// the one numbered done on, keeping none of them.
func (r *Reader) skipValues(kind Kind, count, done int64, depth int) error {
	for ; done < count; done++ {
		if _, err := r.readValue(depth+1, false); err != nil {
			if err == io.EOF {
				err = truncated(kind.String() + " of " + strconv.FormatInt(count, 10) + " values after " + strconv.FormatInt(done, 10))
			}
			return err
		}
	}
	return nil
}

// checkDepth refuses elements below an aggregate at depth when that would
// nest deeper than the limit; empty aggregates and nulls nest nothing.
func (r *Reader) checkDepth(depth int) error {
	if depth >= r.maxDepth {
		return tooLarge("resp: aggregates nested more than " + strconv.Itoa(r.maxDepth) + " deep")
	}
	return nil
}

// reserve returns the capacity to allocate first for an aggregate of count
// values: all of it when the bytes already buffered could hold them (within
// this frame's budget), else what is left of the budget, at least
// smallAggregate, rounded down onto the steps growElems takes toward count.
func (r *Reader) reserve(count int) int {
	if count <= smallAggregate {
		return count
	}
	if r.budget < 0 {
		r.budget = r.br.Buffered() / minValueLen
	}
	if count <= r.budget {
		r.budget -= count
		return count
	}
	start := max(r.budget, smallAggregate)
	r.budget = 0
	return stepBelow(count, start)
}

// growElems returns a copy of the full slice elems with at most twice its
// capacity, so that the slices outgrown on the way sum to less than the
// last one. For a counted aggregate (count > 0) the capacities take the
// steps count/2^k, rounded up, and the last growth lands on count: a reply
// that keeps its word ends with no spare room and has cost at most twice
// its elements in all; one that stops short, like a streamed aggregate,
// holds room for at most twice the elements it sent and has cost at most
// four times.
func growElems(elems []Value, count int) []Value {
	next := max(1, 2*cap(elems))
	if count > 0 {
		next = stepBelow(count, next)
	}
	grown := make([]Value, len(elems), next)
	copy(grown, elems)
	return grown
}

// stepBelow returns the largest count/2^k, rounded up, that is at most
// limit (and count itself when that is): each such step is more than half
// the next, so stepping from one to the next at most doubles.
func stepBelow(count, limit int) int {
	for count > limit {
		count = (count + 1) / 2
	}
	return count
}

// readStreamedAggregate reads the elements of *?, %? or ~? up to the end
// marker ".". Their slice grows by doubling from one element, so it holds
// less than twice the elements that arrived. Once the reply is refused, the
// elements are read past and dropped.
func (r *Reader) readStreamedAggregate(kind Kind, depth int) (Value, error) {
	if kind != Array && kind != Map && kind != Set {
		return Value{}, errorf("resp: " + kind.String() + " cannot be streamed")
	}
	var elems []Value
	for {
		v, err := r.readValue(depth+1, true)
		switch err {
		case nil:
			if r.skip == nil {
				// No count declared its end: past the limit,
				// the stream is given up rather than skipped.
				if err := r.countElements(1); err != nil {
					return Value{}, err
				}
			}
			if r.skip != nil {
				elems = nil
				continue
			}
			if len(elems) == cap(elems) {
				elems = growElems(elems, 0)
			}
			elems = append(elems, v)
			continue
		case errStreamEnd:
		case io.EOF:
			return Value{}, truncated("streamed " + kind.String() + " after " + strconv.Itoa(len(elems)) + " values")
		default:
			return Value{}, err
		}
		if r.skip != nil {
			return Value{}, nil
		}
		if kind == Map && len(elems)%2 != 0 {
			return r.refuse(errorf("resp: streamed map ended after a key without its value"))
		}
		return Value{kind: kind, elems: elems}, nil
	}
}
