package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// AddUser creates (or resets) an ACL user that is enabled and has password.
// With no rules the user may run every command on every key and channel;
// otherwise rules are ACL SETUSER rules ("~app:*", "+get", "-@dangerous").
func (n *Node) AddUser(ctx context.Context, name, password string, rules ...string) error {
	if len(rules) == 0 {
		rules = []string{"~*", "&*", "+@all"}
	}
	args := append([]string{"ACL", "SETUSER", name, "reset", "on", ">" + password}, rules...)
	if _, err := n.Do(ctx, args...); err != nil {
		// The error reply may quote the arguments: keep the password out.
		return fmt.Errorf("redistest: ACL SETUSER %s on %s failed", name, n)
	}
	return nil
}

// ClientInfo is one connection in CLIENT LIST.
type ClientInfo struct {
	ID     int64
	Addr   string // the client's address
	Name   string
	User   string
	Cmd    string // last command
	Flags  string
	Fields map[string]string // every field, by name
}

// Clients lists the client connections of the node (CLIENT LIST), the one
// asking included (its Cmd is "client|list").
func (n *Node) Clients(ctx context.Context) ([]ClientInfo, error) {
	text, err := n.text(ctx, "CLIENT", "LIST")
	if err != nil {
		return nil, err
	}
	var clients []ClientInfo
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		fields := make(map[string]string)
		for f := range strings.FieldsSeq(line) {
			k, v, _ := strings.Cut(f, "=")
			fields[k] = v
		}
		id, err := strconv.ParseInt(fields["id"], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redistest: CLIENT LIST: bad line %q", line)
		}
		clients = append(clients, ClientInfo{
			ID: id, Addr: fields["addr"], Name: fields["name"], User: fields["user"],
			Cmd: fields["cmd"], Flags: fields["flags"], Fields: fields,
		})
	}
	return clients, nil
}
