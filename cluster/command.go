package cluster

import (
	"errors"
	"fmt"
	"strings"

	"github.com/respwire/respwire/resp"
)

// commandFlags is what routing needs to know about a command besides its keys.
type commandFlags uint8

const (
	// flagReadonly: the command only reads, so a replica may serve it.
	flagReadonly commandFlags = 1 << iota
	// flagBlocking: the command may block; it never goes to a replica.
	flagBlocking
	// flagSkipEmptyKeys: an empty key argument is a placeholder, not a key
	// (MIGRATE host port "" db timeout KEYS k1 k2).
	flagSkipEmptyKeys
)

// How a key spec finds its first key.
type beginKind uint8

const (
	beginUnknown beginKind = iota // the keys can't be found from the arguments' positions
	beginIndex                    // at a fixed argument position
	beginKeyword                  // right after a keyword such as STREAMS
)

// How a key spec finds the keys after the first one.
type findKind uint8

const (
	findUnknown findKind = iota
	findRange            // up to a last key, every keyStep arguments
	findKeynum           // an argument holds the number of keys (EVAL's numkeys)
)

// keySpec is one entry of a command's key specifications, as COMMAND reports
// them since Redis 7.0: where the keys begin, and how to find the rest.
type keySpec struct {
	begin     beginKind
	index     int    // beginIndex: the first key's position
	keyword   string // beginKeyword: the keys follow this argument
	startFrom int    // beginKeyword: search from here; negative counts from the end, backwards

	find      findKind
	lastKey   int // findRange: last key relative to the first; negative counts from the end
	keyStep   int // findRange, findKeynum: distance between keys
	limit     int // findRange with lastKey -1: only 1/limit of the remaining arguments are keys
	keynumIdx int // findKeynum: where the count is, relative to the begin position
	firstKey  int // findKeynum: where the keys start, relative to the begin position
}

// commandInfo is the routing metadata of one command (or subcommand).
type commandInfo struct {
	name  string // lower case; subcommands as "object|encoding"
	flags commandFlags
	// Legacy key positions (first, last, step), used when specs is empty.
	firstKey, lastKey, keyStep int
	specs                      []keySpec
	// subcommands of a container command such as OBJECT or XINFO, keyed by
	// the lower-cased subcommand name ("encoding").
	subcommands map[string]*commandInfo
	// The command's tips: where it goes and how replies merge (tips.go).
	request  requestPolicy
	response responsePolicy
	hasTips  bool // the server reported a request or response policy
}

func (ci *commandInfo) readonly() bool { return ci.flags&flagReadonly != 0 }
func (ci *commandInfo) blocking() bool { return ci.flags&flagBlocking != 0 }

// errCommandReply is wrapped by every error about a malformed COMMAND reply.
var errCommandReply = errors.New("cluster: malformed COMMAND reply")

// parseCommands reads the reply of COMMAND (or COMMAND INFO) into a map keyed
// by lower-cased command name. Entries that are null (COMMAND INFO of an
// unknown name) are left out.
func parseCommands(v resp.Value) (map[string]*commandInfo, error) {
	if err := v.Err(); err != nil {
		return nil, err
	}
	if v.Kind() != resp.Array && v.Kind() != resp.Set {
		return nil, fmt.Errorf("%w: %s instead of an array", errCommandReply, v.Kind())
	}
	entries := v.Elems()
	commands := make(map[string]*commandInfo, len(entries))
	for _, e := range entries {
		if e.IsNull() {
			continue
		}
		ci, err := parseCommand(e)
		if err != nil {
			return nil, err
		}
		commands[ci.name] = ci
	}
	return commands, nil
}

// parseCommand reads one entry: name, arity, flags, first key, last key,
// step, ACL categories, tips, key specs, subcommands. The last four are
// missing before Redis 7.0.
func parseCommand(v resp.Value) (*commandInfo, error) {
	fields := v.Elems()
	if len(fields) < 6 {
		return nil, fmt.Errorf("%w: entry of %d fields", errCommandReply, len(fields))
	}
	name, err := fields[0].Text()
	if err != nil {
		return nil, fmt.Errorf("%w: command name: %v", errCommandReply, err)
	}
	ci := &commandInfo{name: strings.ToLower(name)}
	for _, f := range fields[2].Elems() {
		switch flag, _ := f.Text(); strings.ToLower(flag) {
		case "readonly":
			ci.flags |= flagReadonly
		case "blocking":
			ci.flags |= flagBlocking
		}
	}
	var positions [3]int64
	for i := range positions {
		if positions[i], err = fields[3+i].Int(); err != nil {
			return nil, fmt.Errorf("%w: %s key positions: %v", errCommandReply, ci.name, err)
		}
	}
	ci.firstKey, ci.lastKey, ci.keyStep = int(positions[0]), int(positions[1]), int(positions[2])
	if ci.name == "migrate" {
		ci.flags |= flagSkipEmptyKeys
	}
	if len(fields) > 7 {
		ci.parseTips(fields[7])
	}
	if len(fields) > 8 {
		for _, s := range fields[8].Elems() {
			ci.specs = append(ci.specs, parseKeySpec(s))
		}
	}
	if len(fields) > 9 && len(fields[9].Elems()) > 0 {
		subs, err := parseCommands(fields[9])
		if err != nil {
			return nil, err
		}
		ci.subcommands = make(map[string]*commandInfo, len(subs))
		for full, sub := range subs {
			_, short, ok := strings.Cut(full, "|")
			if !ok {
				short = full
			}
			ci.subcommands[short] = sub
		}
	}
	return ci, nil
}

// parseKeySpec reads one key spec, a map (an array of alternating keys and
// values on RESP2). Whatever it can't understand stays "unknown", and an
// unknown spec finds no keys: the server still checks them.
func parseKeySpec(v resp.Value) keySpec {
	var ks keySpec
	fields := pairs(v)
	if typ, spec, ok := typedSpec(fields["begin_search"]); ok {
		sf := pairs(spec)
		switch typ {
		case "index":
			ks.begin, ks.index = beginIndex, intField(sf, "index")
		case "keyword":
			ks.begin, ks.startFrom = beginKeyword, intField(sf, "startfrom")
			ks.keyword, _ = sf["keyword"].Text()
		}
	}
	if typ, spec, ok := typedSpec(fields["find_keys"]); ok {
		sf := pairs(spec)
		switch typ {
		case "range":
			ks.find = findRange
			ks.lastKey, ks.keyStep, ks.limit = intField(sf, "lastkey"), intField(sf, "keystep"), intField(sf, "limit")
		case "keynum":
			ks.find = findKeynum
			ks.keynumIdx, ks.firstKey, ks.keyStep = intField(sf, "keynumidx"), intField(sf, "firstkey"), intField(sf, "keystep")
		}
	}
	if ks.begin == beginUnknown || ks.find == findUnknown || ks.keyStep <= 0 {
		return keySpec{} // a spec we can't follow must not find wrong keys
	}
	return ks
}

// typedSpec splits {type: ..., spec: {...}} of begin_search and find_keys.
func typedSpec(v resp.Value) (typ string, spec resp.Value, ok bool) {
	f := pairs(v)
	typ, err := f["type"].Text()
	if err != nil {
		return "", resp.Value{}, false
	}
	return strings.ToLower(typ), f["spec"], true
}

// pairs turns a map (or a flat array of alternating keys and values) into a Go
// map with lower-cased keys. Used only while parsing COMMAND, never per call.
func pairs(v resp.Value) map[string]resp.Value {
	elems := v.Elems()
	m := make(map[string]resp.Value, len(elems)/2)
	for i := 0; i+1 < len(elems); i += 2 {
		if k, err := elems[i].Text(); err == nil {
			m[strings.ToLower(k)] = elems[i+1]
		}
	}
	return m
}

func intField(m map[string]resp.Value, name string) int {
	n, _ := m[name].Int()
	return int(n)
}
