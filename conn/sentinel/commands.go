package sentinel

import (
	"strings"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// commandFlags is what replica routing needs to know about a command.
type commandFlags uint8

const (
	flagReadonly       commandFlags = 1 << iota // the command only reads
	flagBlocking                                // it may block: never on a replica
	flagHasSubcommands                          // OBJECT, XINFO, ...: look up "name|sub"
)

// commandTable maps a command's name, lower case (and upper case for whole
// commands, so the common spellings need no conversion), to its flags, from
// the server's COMMAND reply.
type commandTable map[string]commandFlags

// parseCommands reads a COMMAND reply: each entry's name, its flags (third
// field) and, since Redis 7.0, its subcommands (tenth field). Malformed
// entries are left out, so their commands go to the master.
func parseCommands(v resp.Value) commandTable {
	t := make(commandTable)
	for _, e := range v.Elems() {
		t.add(e, true)
	}
	return t
}

func (t commandTable) add(e resp.Value, top bool) {
	f := e.Elems()
	if len(f) < 3 {
		return
	}
	name, err := f[0].Text()
	if err != nil || name == "" {
		return
	}
	name = strings.ToLower(name)
	var flags commandFlags
	for _, fl := range f[2].Elems() {
		switch s, _ := fl.Text(); strings.ToLower(s) {
		case "readonly":
			flags |= flagReadonly
		case "blocking":
			flags |= flagBlocking
		}
	}
	if len(f) > 9 && len(f[9].Elems()) > 0 {
		flags |= flagHasSubcommands
		for _, sub := range f[9].Elems() {
			t.add(sub, false)
		}
	}
	t[name] = flags
	if top {
		t[strings.ToUpper(name)] = flags
	}
}

// readOnly reports whether args may be served by a replica: the server
// flags the command (or its subcommand) readonly and not blocking. Unknown
// commands are not.
func (t commandTable) readOnly(args []string) bool {
	switch len(args) {
	case 0:
		return false
	case 1:
		return t.readOnlyName(args[0], "", false)
	}
	return t.readOnlyName(args[0], args[1], true)
}

// readOnlyCmd is readOnly for a conn.Command.
func (t commandTable) readOnlyCmd(cmd *conn.Command) bool {
	name, ok := cmd.Text(0)
	if !ok {
		return false
	}
	sub, hasSub := cmd.Text(1)
	return t.readOnlyName(name, sub, hasSub)
}

func (t commandTable) readOnlyName(name, sub string, hasSub bool) bool {
	flags, ok := t[name]
	if !ok {
		flags, ok = t[strings.ToLower(name)]
	}
	if ok && flags&flagHasSubcommands != 0 {
		if !hasSub {
			return false
		}
		flags, ok = t[strings.ToLower(name+"|"+sub)]
	}
	return ok && flags&flagReadonly != 0 && flags&flagBlocking == 0
}
