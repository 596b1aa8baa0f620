package conn

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/respwire/respwire/resp"
)

// Script is a Lua script that runs by its SHA1 digest: EVALSHA first, which
// sends only the digest, and EVAL with the whole source when the server
// answers NOSCRIPT (it never had the script, flushed its script cache with
// SCRIPT FLUSH, or is a replica promoted after a failover, which Redis does
// not send scripts to). EVAL leaves the script cached, so later runs are
// EVALSHA again. It runs on any Doer: a Client, a cluster Client (routed by
// the script's keys, so they must share a slot), a Conn.
//
// A Script is immutable and safe for concurrent use; make it once, at start
// up, with NewScript.
type Script struct {
	src, sha string
}

// NewScript returns the script with source src.
func NewScript(src string) *Script {
	sum := sha1.Sum([]byte(src))
	return &Script{src: src, sha: hex.EncodeToString(sum[:])}
}

// SHA returns the script's SHA1 digest in hex, as EVALSHA and SCRIPT
// EXISTS take it.
func (s *Script) SHA() string { return s.sha }

// Cmd returns the command that runs s with keys: EVALSHA sha numkeys
// keys..., to which the script's arguments are appended with the methods of
// Command (Arg, Bytes, Int, Float). RunCmd and DoMultiScripts send it, and
// send EVAL in its place where the server has no copy of s.
func (s *Script) Cmd(keys ...string) Command {
	c := Cmd("EVALSHA", s.sha).Int(int64(len(keys))).Args(keys...)
	c.script = s
	return c
}

// Run runs s with keys and string args on d, as RunCmd does.
func (s *Script) Run(ctx context.Context, d Doer, keys []string, args ...string) (resp.Value, error) {
	return s.RunCmd(ctx, d, s.Cmd(keys...).Args(args...))
}

// RunCmd sends cmd, which s.Cmd made, on d: as EVALSHA, and as EVAL if d
// answers NOSCRIPT. It returns the script's reply; an error the script
// raised is a *resp.Error.
func (s *Script) RunCmd(ctx context.Context, d Doer, cmd Command) (resp.Value, error) {
	if cmd.script != s {
		return resp.Value{}, errors.New("conn: Script.RunCmd: the command was not made by this Script's Cmd")
	}
	v, err := d.DoCmd(ctx, cmd)
	if isNoScript(err) {
		return d.DoCmd(ctx, cmd.eval())
	}
	return v, err
}

// DoMultiScripts sends cmds with d.DoMultiCmd, like it, where some of them
// run scripts (made by Script.Cmd): each of those that came back NOSCRIPT
// is sent again as EVAL, all of them in one more batch, and its reply put in
// its place. Those scripts then run after the batch's other commands, so a
// batch that must see a script's effects in order should run the script
// once before (Script.Run), which leaves it cached. A batch that holds MULTI, a transaction that can't be finished
// afterwards, sends its scripts as EVAL from the start.
func DoMultiScripts(ctx context.Context, d Doer, cmds ...Command) ([]resp.Value, error) {
	transaction := false
	for i := range cmds {
		if strings.EqualFold(cmds[i].Name(), "MULTI") {
			transaction = true
			break
		}
	}
	if transaction {
		evals := make([]Command, len(cmds))
		for i := range cmds {
			evals[i] = cmds[i].eval()
		}
		return d.DoMultiCmd(ctx, evals...)
	}
	replies, err := d.DoMultiCmd(ctx, cmds...)
	if err != nil {
		return replies, err
	}
	var again []int
	for i := range cmds {
		if cmds[i].script != nil && i < len(replies) && isNoScript(replies[i].Err()) {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return replies, nil
	}
	evals := make([]Command, len(again))
	for j, i := range again {
		evals[j] = cmds[i].eval()
	}
	got, err := d.DoMultiCmd(ctx, evals...)
	for j, i := range again {
		if j < len(got) {
			replies[i] = got[j]
		}
	}
	return replies, err
}

// eval returns c as EVAL with its script's source, if c runs a script;
// otherwise c unchanged.
func (c Command) eval() Command {
	if c.script == nil {
		return c
	}
	c.inline[0].s, c.inline[1].s = "EVAL", c.script.src
	c.script = nil
	return c
}

// isNoScript reports whether err is the server's NOSCRIPT reply.
func isNoScript(err error) bool {
	var re *resp.Error
	return errors.As(err, &re) && re.Code == "NOSCRIPT"
}
