package conn

import (
	"strings"
	"unicode/utf8"
)

// argList is a command's arguments as a statement reads them: strings, or
// a Command. It is a value, not an interface, so that reading a command
// for its statement does not make it escape (a caller's variadic arguments
// would then cost an allocation even with Statement off).
type argList struct {
	strs []string
	cmd  *Command // when not nil, in place of strs
}

func stringArgs(args []string) argList { return argList{strs: args} }
func commandArgs(cmd *Command) argList { return argList{cmd: cmd} }

// Len returns the number of arguments, the name included.
func (a argList) Len() int {
	if a.cmd != nil {
		return a.cmd.n
	}
	return len(a.strs)
}

// Text returns argument i when it is a string; ok is false for a number,
// which AppendArg writes.
func (a argList) Text(i int) (s string, ok bool) {
	if a.cmd != nil {
		return a.cmd.Text(i)
	}
	return a.strs[i], true
}

// AppendArg appends argument i's text to dst.
func (a argList) AppendArg(dst []byte, i int) []byte {
	if a.cmd != nil {
		return a.cmd.AppendArg(dst, i)
	}
	return append(dst, a.strs[i]...)
}

// redacted is what a statement shows in place of a secret argument.
const redacted = "?"

// statement is the text of one command for CommandEvent.Statement: its
// arguments separated by spaces, the secret ones (see secretArgs) shown as
// "?", cut at StatementMax bytes.
func statement(a argList) string {
	var b strings.Builder
	b.Grow(min(statementSize(a), StatementMax))
	appendStatement(&b, a)
	return cut(b.String())
}

// pipelineStatement is the text of n commands (cmd(i) is the i-th) for
// PipelineEvent.Statement: each as statement writes it, one per line, the
// whole cut at StatementMax bytes.
func pipelineStatement(n int, cmd func(i int) argList) string {
	size := 0
	for i := 0; i < n && size <= StatementMax; i++ {
		size += statementSize(cmd(i)) + 1
	}
	var b strings.Builder
	b.Grow(min(size, StatementMax))
	for i := 0; i < n && b.Len() <= StatementMax; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		appendStatement(&b, cmd(i))
	}
	return cut(b.String())
}

// statementSize is about the length of a's statement: exact but for
// redacted arguments and numbers, which it guesses.
func statementSize(a argList) int {
	n := 0
	for i := range a.Len() {
		s, ok := a.Text(i)
		if !ok {
			s = "-1234567890"
		}
		n += len(s) + 1
		if n > StatementMax {
			break
		}
	}
	return n
}

// appendStatement writes a's arguments to b, separated by spaces, secret
// ones redacted, stopping once b holds more than StatementMax bytes.
func appendStatement(b *strings.Builder, a argList) {
	var num [32]byte
	hide := 0 // how many arguments to come are secret
	for i := range a.Len() {
		if b.Len() > StatementMax {
			return
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		if hide > 0 {
			b.WriteString(redacted)
			hide--
			continue
		}
		s, ok := a.Text(i)
		if !ok {
			b.Write(a.AppendArg(num[:0], i))
			continue
		}
		b.WriteString(s)
		hide = secretArgs(a, i, s)
	}
}

// secretArgs says how many of the arguments after argument i (whose text is
// s) are secrets: AUTH's arguments; the username and password after HELLO's
// AUTH; MIGRATE's AUTH password and AUTH2 username and password; the value
// of CONFIG SET requirepass, masterauth and the TLS key passphrases; the
// rules of ACL SETUSER (passwords and their hashes among them); the
// passwords of SENTINEL SET and SENTINEL CONFIG SET. CLIENT SETNAME's name is
// not a secret.
func secretArgs(a argList, i int, s string) int {
	name, _ := a.Text(0)
	rest := a.Len() - i - 1
	switch {
	case i == 0 && strings.EqualFold(name, "AUTH"):
		return rest
	case i == 0:
		return 0
	case strings.EqualFold(name, "HELLO") && strings.EqualFold(s, "AUTH"):
		return 2
	case strings.EqualFold(name, "MIGRATE") && strings.EqualFold(s, "AUTH"):
		return 1
	case strings.EqualFold(name, "MIGRATE") && strings.EqualFold(s, "AUTH2"):
		return 2
	case strings.EqualFold(name, "ACL") && i == 2 && subcommandIs(a, "SETUSER"):
		return rest
	case strings.EqualFold(name, "CONFIG") && i >= 2 && i%2 == 0 && subcommandIs(a, "SET") && secretConfig(s):
		return 1
	case strings.EqualFold(name, "SENTINEL") && secretConfig(s):
		return 1
	}
	return 0
}

// subcommandIs reports whether a's second argument is sub, in any case.
func subcommandIs(a argList, sub string) bool {
	s, ok := a.Text(1)
	return ok && strings.EqualFold(s, sub)
}

// secretConfig reports whether the configuration parameter name holds a
// secret (of the server's, or a sentinel's).
func secretConfig(name string) bool {
	switch strings.ToLower(name) {
	case "requirepass", "masterauth", "tls-key-file-pass", "tls-client-key-file-pass",
		"auth-pass", "sentinel-pass":
		return true
	}
	return false
}

// cut returns s cut to StatementMax bytes, without splitting its last
// character.
func cut(s string) string {
	if len(s) <= StatementMax {
		return s
	}
	s = s[:StatementMax]
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				s = s[:i]
			}
			break
		}
	}
	return s
}
