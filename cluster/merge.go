package cluster

import (
	"errors"

	"github.com/respwire/respwire/resp"
)

// merge turns the replies of a fanned-out command into one, by the
// command's response policy. addrs names the node of each reply (for
// special; nil for a split command). An error reply is returned as the
// merged reply when the policy says the command failed:
//
//   - one_succeeded: the first reply that isn't an error, else the first error;
//   - all_succeeded: the first error if any, else the first reply;
//   - agg_logical_and, agg_logical_or, agg_min, agg_max, agg_sum: the first
//     error if any, else the integers folded (arrays of integers element by
//     element, as SCRIPT EXISTS needs); replies that can't be folded give
//     an error reply;
//   - special: a map of each node's address to its reply, errors included;
//   - no policy: the first error if any; else arrays (and sets) are
//     concatenated (KEYS), maps merged, and anything else is the first
//     non-null reply (RANDOMKEY).
func merge(policy responsePolicy, replies []resp.Value, addrs []string) resp.Value {
	switch policy {
	case responseOneSucceeded:
		for _, v := range replies {
			if v.Err() == nil {
				return v
			}
		}
		return replies[0]
	case responseSpecial:
		kv := make([]resp.Value, 0, 2*len(replies))
		for i, v := range replies {
			name := ""
			if i < len(addrs) {
				name = addrs[i]
			}
			kv = append(kv, resp.NewBulkString(name), v)
		}
		return resp.NewMap(kv...)
	}
	for _, v := range replies {
		if v.Err() != nil {
			return v
		}
	}
	switch policy {
	case responseAllSucceeded:
		return replies[0]
	case responseLogicalAnd, responseLogicalOr, responseMin, responseMax, responseSum:
		return fold(policy, replies)
	}
	return mergeDefault(replies)
}

// fold combines integer replies, or arrays of them element by element.
func fold(policy responsePolicy, replies []resp.Value) resp.Value {
	first := replies[0]
	if first.Kind() == resp.Array || first.Kind() == resp.Set {
		n := len(first.Elems())
		out := make([]resp.Value, n)
		column := make([]resp.Value, len(replies))
		for i := range n {
			for j, r := range replies {
				e := r.Elems()
				if len(e) != n {
					return resp.NewSimpleError("ERR cluster: the nodes' replies have different lengths")
				}
				column[j] = e[i]
			}
			out[i] = fold(policy, column)
			if out[i].Err() != nil {
				return out[i]
			}
		}
		return resp.NewArray(out...)
	}
	acc, err := asInt(first)
	if err != nil {
		return resp.NewSimpleError("ERR cluster: can't aggregate a " + first.Kind().String() + " reply")
	}
	for _, r := range replies[1:] {
		n, err := asInt(r)
		if err != nil {
			return resp.NewSimpleError("ERR cluster: can't aggregate a " + r.Kind().String() + " reply")
		}
		switch policy {
		case responseSum:
			acc += n
		case responseMin:
			acc = min(acc, n)
		case responseMax:
			acc = max(acc, n)
		case responseLogicalAnd:
			acc = boolInt(acc != 0 && n != 0)
		case responseLogicalOr:
			acc = boolInt(acc != 0 || n != 0)
		}
	}
	if policy == responseLogicalAnd || policy == responseLogicalOr {
		acc = boolInt(acc != 0)
	}
	return resp.NewInt(acc)
}

// asInt reads an Integer or a Boolean reply.
func asInt(v resp.Value) (int64, error) {
	if v.Kind() == resp.Boolean {
		b, err := v.Bool()
		return boolInt(b), err
	}
	if v.Kind() != resp.Integer {
		return 0, errCannotFold
	}
	return v.Int()
}

var errCannotFold = errors.New("cluster: not an integer")

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// mergeDefault merges replies for a command without a response policy:
// arrays and sets concatenated into an array, maps merged, otherwise the
// first non-null reply.
func mergeDefault(replies []resp.Value) resp.Value {
	kind := replies[0].Kind()
	same := true
	total := 0
	for _, r := range replies {
		k := r.Kind()
		if k == resp.Set {
			k = resp.Array
		}
		if kind == resp.Set {
			kind = resp.Array
		}
		if k != kind {
			same = false
		}
		total += len(r.Elems())
	}
	if same && (kind == resp.Array || kind == resp.Map) {
		all := make([]resp.Value, 0, total)
		for _, r := range replies {
			all = append(all, r.Elems()...)
		}
		if kind == resp.Map {
			return resp.NewMap(all...)
		}
		return resp.NewArray(all...)
	}
	for _, r := range replies {
		if !r.IsNull() {
			return r
		}
	}
	return replies[0]
}
