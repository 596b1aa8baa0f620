package conn

import (
	"errors"
	"strings"
)

// ErrSharedState is wrapped by the error a Client's Do or DoMulti returns,
// without sending anything, for a command whose effect outlives its reply:
// one that changes the state of the connection it runs on (SELECT, CLIENT
// REPLY, MONITOR, WATCH, a MULTI left open, ...). A Client's shared
// connection carries every caller's commands, so such a command would act
// on theirs. Run it in Dedicated, or send MULTI ... EXEC whole in one
// DoMulti.
var ErrSharedState = errors.New("conn: command changes the state of a shared connection")

// stateKind says how a command changes the state of the connection it runs
// on, beyond its own reply.
type stateKind uint8

const (
	stateNone     stateKind = iota // no effect beyond its reply
	stateNext                      // the next command only: ASKING, CLIENT CACHING
	stateMulti                     // MULTI: commands are queued until EXEC or DISCARD
	stateEndMulti                  // EXEC, DISCARD
	stateWatch                     // WATCH: keys are watched until EXEC, DISCARD or UNWATCH
	stateUnwatch                   // UNWATCH
	stateLasting                   // everything else: until changed back, or for good
)

// commandState classifies args by its effect on the connection, from the
// command table of Redis 7: the connection and transaction commands that
// keep state, MONITOR, and the replication handshake. The subscribe family
// is refused separately (see checkCommand). It does not allocate, and costs
// one switch for a command of three letters such as GET or SET.
func commandState(args []string) stateKind {
	if len(args) == 0 {
		return stateNone
	}
	name := args[0]
	switch len(name) {
	case 4:
		if strings.EqualFold(name, "AUTH") || strings.EqualFold(name, "QUIT") || strings.EqualFold(name, "SYNC") {
			return stateLasting
		}
		if strings.EqualFold(name, "EXEC") {
			return stateEndMulti
		}
	case 5:
		switch {
		case strings.EqualFold(name, "MULTI"):
			return stateMulti
		case strings.EqualFold(name, "WATCH"):
			return stateWatch
		case strings.EqualFold(name, "HELLO") || strings.EqualFold(name, "RESET") || strings.EqualFold(name, "PSYNC"):
			return stateLasting
		}
	case 6:
		switch {
		case strings.EqualFold(name, "SELECT"):
			return stateLasting
		case strings.EqualFold(name, "ASKING"):
			return stateNext
		case strings.EqualFold(name, "CLIENT"):
			return clientState(args[1:])
		}
	case 7:
		switch {
		case strings.EqualFold(name, "DISCARD"):
			return stateEndMulti
		case strings.EqualFold(name, "UNWATCH"):
			return stateUnwatch
		case strings.EqualFold(name, "MONITOR"):
			return stateLasting
		}
	case 8:
		if strings.EqualFold(name, "READONLY") || strings.EqualFold(name, "REPLCONF") {
			return stateLasting
		}
	case 9:
		if strings.EqualFold(name, "READWRITE") {
			return stateLasting
		}
	}
	return stateNone
}

// clientState classifies a CLIENT subcommand: those that set a flag or a
// mode of the connection keep state; CLIENT CACHING acts on the next
// command.
func clientState(sub []string) stateKind {
	if len(sub) == 0 {
		return stateNone
	}
	if strings.EqualFold(sub[0], "CACHING") {
		return stateNext
	}
	for _, name := range lastingClientSubcommands {
		if strings.EqualFold(sub[0], name) {
			return stateLasting
		}
	}
	return stateNone
}

// lastingClientSubcommands are the CLIENT subcommands that set a mode or a
// property of the connection (SETINFO and NO-TOUCH are Redis 7.2's).
var lastingClientSubcommands = [...]string{"REPLY", "TRACKING", "SETNAME", "SETINFO", "NO-EVICT", "NO-TOUCH"}

// disturbsPing reports whether args (of kind stateLasting) puts the
// connection in a state where a PING of the Conn's own would not get its
// reply in turn: CLIENT REPLY OFF or SKIP, MONITOR, or the replication
// stream of SYNC, PSYNC and REPLCONF.
func disturbsPing(args []string) bool {
	name := args[0]
	switch {
	case strings.EqualFold(name, "CLIENT"):
		return len(args) > 1 && strings.EqualFold(args[1], "REPLY")
	case strings.EqualFold(name, "MONITOR"), strings.EqualFold(name, "SYNC"),
		strings.EqualFold(name, "PSYNC"), strings.EqualFold(name, "REPLCONF"):
		return true
	}
	return false
}

// sharedStateError is the refusal of args on a shared connection.
type sharedStateError struct {
	command string // as the caller spelled it, with its subcommand
	hint    string
}

func (e *sharedStateError) Error() string {
	return "conn: " + e.command + " changes the state of the connection it runs on, and a Client's shared connection carries every caller's commands: " + e.hint
}

func (e *sharedStateError) Unwrap() error { return ErrSharedState }

func refuseState(args []string, hint string) error {
	command := args[0]
	if strings.EqualFold(command, "CLIENT") && len(args) > 1 {
		command += " " + args[1]
	}
	return &sharedStateError{command: command, hint: hint}
}

const (
	hintDedicated = "use Dedicated"
	hintMulti     = "send MULTI ... EXEC (or DISCARD) whole in one DoMulti, or use Dedicated"
	hintNext      = "send it in one DoMulti with the command it is for, or use Dedicated"
)

// checkShared refuses a command that Do on a shared connection must not
// send (see ErrSharedState).
func checkShared(args []string) error {
	switch commandState(args) {
	case stateNone:
		return nil
	case stateMulti, stateEndMulti, stateWatch, stateUnwatch:
		return refuseState(args, hintMulti)
	case stateNext:
		return refuseState(args, hintNext)
	}
	return refuseState(args, hintDedicated)
}

// checkSharedBatch refuses a DoMulti batch that would leave state on a
// shared connection: every MULTI (and WATCH) must be closed by EXEC or
// DISCARD later in the same batch, EXEC, DISCARD and UNWATCH must close
// something the batch opened, ASKING and CLIENT CACHING must come before
// the command they are for, and no command may keep state for good. A
// transaction written whole by one DoMulti is safe, since nothing of other
// callers can come between its commands.
func checkSharedBatch(cmds [][]string) error {
	inMulti, watching := false, false
	for i, args := range cmds {
		kind := commandState(args)
		switch kind {
		case stateNone:
			continue
		case stateLasting:
			return refuseState(args, hintDedicated)
		case stateNext:
			// Inside MULTI the command it is for must be queued too.
			if i == len(cmds)-1 || commandState(cmds[i+1]) == stateEndMulti {
				return refuseState(args, hintNext)
			}
		case stateMulti:
			inMulti = true
		case stateWatch:
			if !inMulti { // inside MULTI, WATCH is refused by the server
				watching = true
			}
		case stateUnwatch:
			if !inMulti && !watching {
				return refuseState(args, hintMulti)
			}
			if !inMulti {
				watching = false
			}
		case stateEndMulti:
			if !inMulti {
				return refuseState(args, hintMulti)
			}
			inMulti, watching = false, false
		}
	}
	if inMulti {
		return refuseState([]string{"MULTI"}, hintMulti)
	}
	if watching {
		return refuseState([]string{"WATCH"}, hintMulti)
	}
	return nil
}
