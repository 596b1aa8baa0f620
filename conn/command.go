package conn

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/respwire/respwire/resp"
)

// inlineArgs is how many arguments, the name included, a Command holds in
// itself. SET key value EX seconds NX is six; HSET with three fields is
// eight. A longer command keeps the rest in one slice it allocates.
const inlineArgs = 8

// argKind says how an argument is held and encoded.
type argKind uint8

const (
	argText  argKind = iota // s: a string, or the bytes of a []byte viewed as one
	argInt                  // num: an int64
	argFloat                // num: a float64's bits
)

// arg is one argument of a Command.
type arg struct {
	s    string
	num  uint64
	kind argKind
}

// Command is one Redis command, built without allocating: a value that holds
// its name and up to seven arguments in itself, so that passing it through
// an interface (Doer, Universal) costs nothing. Build it with Cmd and the
// methods that append an argument of each type; each returns the extended
// Command, which may be kept and sent again:
//
//	conn.Cmd("SET", key).Bytes(payload).Arg("EX").Int(60)
//
// Arguments travel as RESP bulk strings whatever their Go type: a []byte
// as its bytes (binary-safe, no copy), an integer or a float as its decimal
// text, formatted straight into the connection's write buffer. A command of
// more than eight arguments (name included) keeps the rest in a slice of its
// own: one allocation when it is built.
//
// A Command holds a []byte argument's memory, not a copy: don't modify the
// bytes until the call that sends the command has returned. The zero Command
// is empty; sending it fails.
type Command struct {
	inline [inlineArgs]arg
	more   []arg // arguments after the first inlineArgs
	n      int
	script *Script // set by Script.Cmd: the script an EVALSHA runs
}

// Cmd returns the command name with string arguments; more of any type can
// be appended with the methods of Command. It copies args, so a call with a
// literal list allocates nothing.
func Cmd(name string, args ...string) Command {
	var c Command
	c.reserve(1 + len(args))
	c.push(arg{s: name})
	for _, a := range args {
		c.push(arg{s: a})
	}
	return c
}

// Arg returns c with the string s appended.
func (c Command) Arg(s string) Command {
	c.reserve(1)
	c.push(arg{s: s})
	return c
}

// Args returns c with every string of ss appended.
func (c Command) Args(ss ...string) Command {
	c.reserve(len(ss))
	for _, s := range ss {
		c.push(arg{s: s})
	}
	return c
}

// Bytes returns c with the bytes of b appended as one argument, binary-safe
// and without a copy: b must stay unchanged until the command is sent (the
// call that sends it returns).
func (c Command) Bytes(b []byte) Command {
	c.reserve(1)
	c.push(arg{s: unsafe.String(unsafe.SliceData(b), len(b))})
	return c
}

// Int returns c with n appended, written as its decimal text.
func (c Command) Int(n int64) Command {
	c.reserve(1)
	c.push(arg{num: uint64(n), kind: argInt})
	return c
}

// Float returns c with f appended, written as the shortest decimal text
// that reads back as f ("1.5", "1e+21"); the infinities are written "inf"
// and "-inf", as Redis writes them.
func (c Command) Float(f float64) Command {
	c.reserve(1)
	c.push(arg{num: math.Float64bits(f), kind: argFloat})
	return c
}

// Len returns how many arguments c has, its name included.
func (c Command) Len() int { return c.n }

// Name returns the command's name (its first argument), or "" for an empty
// Command.
func (c Command) Name() string {
	if c.n == 0 {
		return ""
	}
	return c.inline[0].s
}

// AppendTo appends c as Redis reads commands, an array of bulk strings, and
// returns the extended buffer, as resp.AppendCommand does for strings. It
// allocates only when dst lacks the room.
func (c *Command) AppendTo(dst []byte) []byte {
	dst = resp.AppendArrayHeader(dst, c.n)
	for i := 0; i < c.n; i++ {
		a := c.at(i)
		if a.kind == argText {
			dst = resp.AppendBulkString(dst, a.s)
			continue
		}
		var digits [32]byte
		text := a.appendText(digits[:0])
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(text)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, text...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// Text returns argument i (0 is the name) when it is a string or a []byte,
// whose bytes it views as a string without copying them (valid while they
// stay unchanged), and false when it is a number or i is out of range. With
// AppendArg it lets code that takes strings read a Command without
// allocating, as the cluster client does to find its keys.
func (c *Command) Text(i int) (string, bool) {
	if i < 0 || i >= c.n {
		return "", false
	}
	a := c.at(i)
	return a.s, a.kind == argText
}

// AppendArg appends argument i as it goes on the wire, without the RESP
// framing: a string's or a []byte's bytes, a number's decimal text. An i out
// of range appends nothing.
func (c *Command) AppendArg(dst []byte, i int) []byte {
	if i < 0 || i >= c.n {
		return dst
	}
	return c.at(i).appendText(dst)
}

// Strings returns a copy of c's arguments, name first, as strings of their
// own: for logging, tests and fakes.
func (c Command) Strings() []string {
	out := make([]string, c.n)
	for i := range out {
		a := c.at(i)
		if a.kind == argText {
			out[i] = strings.Clone(a.s) // a []byte argument may change later
			continue
		}
		out[i] = string(a.appendText(nil))
	}
	return out
}

// reserve makes room for k more arguments. Past the inline ones it gives c
// a fresh slice of exactly the size needed: copies of a Command share its
// slice, so appending in place could overwrite another copy's arguments.
func (c *Command) reserve(k int) {
	need := c.n + k - inlineArgs
	if need <= len(c.more) {
		return
	}
	more := make([]arg, len(c.more), need)
	copy(more, c.more)
	c.more = more
}

// push appends one argument, within the room reserve made.
func (c *Command) push(a arg) {
	if c.n < inlineArgs {
		c.inline[c.n] = a
	} else {
		c.more = append(c.more, a)
	}
	c.n++
}

// at returns argument i, 0 ≤ i < c.n.
func (c *Command) at(i int) *arg {
	if i < inlineArgs {
		return &c.inline[i]
	}
	return &c.more[i-inlineArgs]
}

// appendText appends a number argument's decimal text.
func (a *arg) appendText(dst []byte) []byte {
	switch a.kind {
	case argInt:
		return strconv.AppendInt(dst, int64(a.num), 10)
	case argFloat:
		f := math.Float64frombits(a.num)
		switch {
		case math.IsInf(f, 1):
			return append(dst, "inf"...)
		case math.IsInf(f, -1):
			return append(dst, "-inf"...)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	}
	return append(dst, a.s...)
}

// headArgs is how many leading arguments head shows.
const headArgs = 16

// head fills buf with c's first arguments (up to headArgs), numbers shown
// as "", for the checks that look at a command's name and options: which
// commands Do refuses, which are blocking. It does not allocate.
func (c *Command) head(buf *[headArgs]string) []string {
	n := min(c.n, headArgs)
	for i := 0; i < n; i++ {
		if a := c.at(i); a.kind == argText {
			buf[i] = a.s
		}
	}
	return buf[:n]
}
