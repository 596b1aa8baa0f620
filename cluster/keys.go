package cluster

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/respwire/respwire/slots"
)

// noSlot is the slot of a command that names no key.
const noSlot = -1

// maxLearnedCommands bounds how many names unknown to COMMAND a Client
// remembers after asking COMMAND INFO, so a caller sending random command
// names can't grow the table without end.
const maxLearnedCommands = 256

// commandTable maps lower-cased command names to their metadata. The map
// behind the pointer is never modified: learning a command swaps in a copy,
// so lookups take no lock.
type commandTable struct {
	commands atomic.Pointer[map[string]*commandInfo]
	mu       sync.Mutex // serializes learners
	learned  int
}

func newCommandTable(commands map[string]*commandInfo) *commandTable {
	t := &commandTable{}
	t.commands.Store(&commands)
	return t
}

// lookup returns the metadata of the command called name, in any case, and
// whether it is known. It does not allocate.
func (t *commandTable) lookup(name string) (*commandInfo, bool) {
	return lookupFold(*t.commands.Load(), name)
}

// learn adds what COMMAND INFO said about name; info nil records that the
// server doesn't know it either (routed as a keyless command).
func (t *commandTable) learn(name string, info *commandInfo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.commands.Load()
	if t.learned >= maxLearnedCommands {
		return
	}
	key := strings.ToLower(name)
	if _, ok := old[key]; ok {
		return
	}
	if info == nil {
		info = &commandInfo{name: key}
	}
	next := make(map[string]*commandInfo, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[key] = info
	t.learned++
	t.commands.Store(&next)
}

// maxNameLen is the longest command or subcommand name looked up without
// allocating; Redis's own names are all much shorter.
const maxNameLen = 64

// lookupFold looks name up in m, whose keys are lower case, ignoring name's
// case without allocating: a name with upper-case letters is lowered into a
// stack buffer, and indexing a map with string(bytes) does not copy.
func lookupFold(m map[string]*commandInfo, name string) (*commandInfo, bool) {
	upper := false
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			upper = true
			break
		}
	}
	if !upper {
		ci, ok := m[name]
		return ci, ok
	}
	if len(name) > maxNameLen {
		ci, ok := m[strings.ToLower(name)]
		return ci, ok
	}
	var buf [maxNameLen]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	ci, ok := m[string(buf[:len(name)])]
	return ci, ok
}

// slotAcc collects the slots of a command's keys.
type slotAcc struct {
	slot  int // noSlot until the first key
	cross bool
	skip  bool      // skip empty keys (MIGRATE's placeholder)
	found *[]string // when not nil, every key is appended to it (tests)
}

func (a *slotAcc) add(key string) {
	if a.skip && key == "" {
		return
	}
	if a.found != nil {
		*a.found = append(*a.found, key)
	}
	s := int(slots.Slot(key))
	switch {
	case a.slot == noSlot:
		a.slot = s
	case a.slot != s:
		a.cross = true
	}
}

// keySlot returns the slot every key of args (args[0] is the command name)
// hashes to, noSlot when the command names no key, and cross true when its
// keys hash to different slots. It does not allocate.
func (ci *commandInfo) keySlot(args []string) (slot int, cross bool) {
	acc := slotAcc{slot: noSlot}
	ci.walkKeys(args, &acc)
	return acc.slot, acc.cross
}

// resolve returns the metadata of args' subcommand when ci is a container
// command (OBJECT ENCODING), else ci. It does not allocate.
func (ci *commandInfo) resolve(args []string) *commandInfo {
	if ci.subcommands == nil || len(args) < 2 {
		return ci
	}
	if sub, ok := lookupFold(ci.subcommands, args[1]); ok {
		return sub
	}
	return ci
}

// walkKeys adds every key of args to acc.
func (ci *commandInfo) walkKeys(args []string, acc *slotAcc) {
	if ci.subcommands != nil {
		if len(args) < 2 {
			return
		}
		sub, ok := lookupFold(ci.subcommands, args[1])
		if !ok {
			return
		}
		ci = sub
	}
	acc.skip = ci.flags&flagSkipEmptyKeys != 0
	if len(ci.specs) == 0 {
		ci.legacyKeys(args, acc)
	}
	for i := range ci.specs {
		ci.specs[i].keys(args, acc)
	}
}

// legacyKeys walks the keys at (first, last, step), all a server older than
// 7.0 reports. Commands with movable keys report 0 there, so they are routed
// by no key at all on those servers.
func (ci *commandInfo) legacyKeys(args []string, acc *slotAcc) {
	if ci.firstKey <= 0 || ci.keyStep <= 0 {
		return
	}
	last := ci.lastKey
	if last < 0 {
		last += len(args)
	}
	for i := ci.firstKey; i <= last && i < len(args); i += ci.keyStep {
		acc.add(args[i])
	}
}

// keys walks the keys this spec finds in args, following the same rules as
// the server's getKeysUsingKeySpecs. Arguments that don't fit (a missing
// keyword, a count that isn't a number) find no key: the server will answer
// with the syntax error.
func (ks *keySpec) keys(args []string, acc *slotAcc) {
	argc := len(args)
	first := 0
	switch ks.begin {
	case beginIndex:
		first = ks.index
	case beginKeyword:
		// As the server does: a positive startFrom searches forward up to,
		// not including, the last argument; otherwise the search runs
		// backward from argc+startFrom down to, not including, argument 1
		// (which is never the keyword: "MIGRATE keys 6379 a 0 5000" names a
		// host called keys).
		start, end, step := ks.startFrom, argc-1, 1
		if ks.startFrom <= 0 {
			start, end, step = argc+ks.startFrom, 1, -1
		}
		for i := start; i != end && i >= 1 && i < argc; i += step {
			if strings.EqualFold(args[i], ks.keyword) {
				first = i + 1
				break
			}
		}
	default:
		return
	}
	if first <= 0 || first >= argc {
		return
	}
	last := 0
	switch ks.find {
	case findRange:
		switch {
		case ks.lastKey >= 0:
			last = first + ks.lastKey
		case ks.limit <= 0:
			last = argc + ks.lastKey
		default:
			last = first + (argc-first)/ks.limit + ks.lastKey
		}
	case findKeynum:
		at := first + ks.keynumIdx
		if at >= argc {
			return
		}
		n, err := strconv.Atoi(args[at])
		if err != nil || n < 0 {
			return
		}
		n = min(n, argc) // the walk stops at argc anyway; this keeps last from overflowing
		first += ks.firstKey
		last = first + n - 1
	default:
		return
	}
	for i := first; i <= last && i < argc; i += ks.keyStep {
		acc.add(args[i])
	}
}
