package cluster

import (
	"strings"

	"github.com/respwire/respwire/resp"
)

// requestPolicy is where a command goes in a cluster, from the
// "request_policy" tip Redis 7 reports in COMMAND.
type requestPolicy uint8

const (
	requestDefault    requestPolicy = iota // no tip: by the keys' slot, or any master without keys
	requestAllShards                       // every master
	requestAllNodes                        // every master and replica
	requestMultiShard                      // keys in several slots: split by slot
	requestSpecial                         // the command needs handling of its own (SCAN): routed as with no tip
)

// responsePolicy is how the replies of a fanned-out command merge into one,
// from the "response_policy" tip.
type responsePolicy uint8

const (
	responseDefault      responsePolicy = iota // no tip: see mergeDefault
	responseOneSucceeded                       // the first reply that isn't an error
	responseAllSucceeded                       // an error if any node erred, else one reply
	responseLogicalAnd                         // 0/1 integers (or arrays of them) ANDed
	responseLogicalOr                          // ... ORed
	responseMin                                // integers (or arrays of them): the least
	responseMax                                // the greatest
	responseSum                                // summed
	responseSpecial                            // a map of node address to its reply
)

var requestPolicies = map[string]requestPolicy{
	"all_shards":  requestAllShards,
	"all_nodes":   requestAllNodes,
	"multi_shard": requestMultiShard,
	"special":     requestSpecial,
}

var responsePolicies = map[string]responsePolicy{
	"one_succeeded":   responseOneSucceeded,
	"all_succeeded":   responseAllSucceeded,
	"agg_logical_and": responseLogicalAnd,
	"agg_logical_or":  responseLogicalOr,
	"agg_min":         responseMin,
	"agg_max":         responseMax,
	"agg_sum":         responseSum,
	"special":         responseSpecial,
}

// parseTips reads a command's tips (field 7 of a COMMAND entry): words such
// as "request_policy:all_shards". Tips it doesn't know are ignored.
func (ci *commandInfo) parseTips(tips resp.Value) {
	for _, t := range tips.Elems() {
		text, err := t.Text()
		if err != nil {
			continue
		}
		name, value, _ := strings.Cut(strings.ToLower(text), ":")
		switch name {
		case "request_policy":
			ci.request = requestPolicies[value]
		case "response_policy":
			ci.response = responsePolicies[value]
		}
		if ci.request != requestDefault || ci.response != responseDefault {
			ci.hasTips = true
		}
	}
}

// builtinTips are the tips of the common commands that fan out, as Redis
// 7.0 reports them, for servers older than 7.0, whose COMMAND has no tips.
// Subcommands are written "script|load". PING, which 7.0 sends to every
// shard, is left out: on an old server it stays a call to one master.
var builtinTips = map[string]struct {
	request  requestPolicy
	response responsePolicy
}{
	"dbsize":        {requestAllShards, responseSum},
	"keys":          {requestAllShards, responseDefault},
	"randomkey":     {requestAllShards, responseDefault},
	"flushall":      {requestAllShards, responseAllSucceeded},
	"flushdb":       {requestAllShards, responseAllSucceeded},
	"wait":          {requestAllShards, responseMin},
	"script|load":   {requestAllNodes, responseAllSucceeded},
	"script|flush":  {requestAllNodes, responseAllSucceeded},
	"script|exists": {requestAllShards, responseLogicalAnd},
	"script|kill":   {requestAllShards, responseOneSucceeded},
	"mget":          {requestMultiShard, responseDefault},
	"mset":          {requestMultiShard, responseAllSucceeded},
	"del":           {requestMultiShard, responseSum},
	"unlink":        {requestMultiShard, responseSum},
	"exists":        {requestMultiShard, responseSum},
	"touch":         {requestMultiShard, responseSum},
	"scan":          {requestSpecial, responseDefault},
}

// addBuiltinTips gives the commands of a table that reported no tips at all
// (a server older than 7.0) the tips of builtinTips.
func addBuiltinTips(commands map[string]*commandInfo) {
	for _, ci := range commands {
		if ci.hasTips {
			return
		}
		for _, sub := range ci.subcommands {
			if sub.hasTips {
				return
			}
		}
	}
	for name, tips := range builtinTips {
		parent, sub, isSub := strings.Cut(name, "|")
		ci := commands[parent]
		if ci == nil {
			continue
		}
		if isSub {
			// Old servers report no subcommands: make one, routed as its
			// container (which has no keys for these).
			if ci.subcommands == nil {
				ci.subcommands = make(map[string]*commandInfo)
			}
			s := ci.subcommands[sub]
			if s == nil {
				copied := *ci
				copied.name, copied.subcommands = name, nil
				s = &copied
				ci.subcommands[sub] = s
			}
			ci = s
		}
		ci.request, ci.response = tips.request, tips.response
	}
}

// splittable reports whether a multi_shard command can be split by slot:
// its keys are every step-th argument from a fixed position to the end,
// each followed by step-1 arguments of its own (MGET, DEL, MSET's pairs),
// so each slot's keys with their arguments make a command of the same
// name. MSETNX is not split: it promises all or nothing, which no split
// keeps.
func (ci *commandInfo) splittable(args []string) (first, step int, ok bool) {
	if ci.name == "msetnx" {
		return 0, 0, false
	}
	switch {
	case len(ci.specs) == 1:
		ks := &ci.specs[0]
		if ks.begin != beginIndex || ks.find != findRange || ks.lastKey != -1 || ks.limit != 0 {
			return 0, 0, false
		}
		first, step = ks.index, ks.keyStep
	case len(ci.specs) == 0 && ci.lastKey == -1:
		first, step = ci.firstKey, ci.keyStep
	default:
		return 0, 0, false
	}
	if first < 1 || step < 1 || len(args) <= first || (len(args)-first)%step != 0 {
		return 0, 0, false
	}
	return first, step, true
}
