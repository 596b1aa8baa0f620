package cluster

import (
	"context"
	"strconv"
	"time"
)

// Hooks are the functions a cluster Client calls about routing and the
// topology, besides the conn.Hooks its node connections call (set those in
// Options.Conn.Hooks). Each field may be nil; a nil *Hooks costs nothing.
// They run synchronously and must be quick; a panic in one is recovered and
// the event dropped, as for conn.Hooks.
type Hooks struct {
	// Redirect reports a MOVED or ASK reply that a call followed (Do,
	// DoMulti's commands and transactions, DoCache, Watch), on the
	// caller's goroutine with its context, before the call goes on to the
	// node it names. Dedicated, which never follows one, doesn't report it.
	Redirect func(ctx context.Context, e RedirectEvent)
	// Refresh reports one topology refresh that finished, on the
	// goroutine that ran it; the topology New reads, and a refresh cut
	// short by Close, are not reported.
	Refresh func(e RefreshEvent)
	// Node reports a node becoming suspect (its connection broke or its
	// calls ran out of time) or recovering (it answered again, or the
	// topology stopped routing to it).
	Node func(e NodeEvent)
}

// RedirectEvent describes one redirect followed.
type RedirectEvent struct {
	Ask bool // ASK; false for MOVED
	// Name is the command's name as the caller wrote it (a transaction's
	// is its MULTI), never an argument.
	Name string
	Slot uint16
	From string // the node that answered the redirect
	To   string // the node it pointed to
}

// RefreshReason says what started a refresh.
type RefreshReason int

const (
	RefreshRequested RefreshReason = iota + 1 // Client.Refresh
	RefreshRedirect                           // a MOVED, or an error that says the topology changed
	RefreshSuspect                            // a node is suspect
	RefreshSteady                             // the steady-state check (Options.RefreshInterval)
	RefreshLoading                            // with ReadReplicas, the poll while a replica is reported loading
)

var refreshReasonNames = [...]string{
	RefreshRequested: "requested",
	RefreshRedirect:  "redirect",
	RefreshSuspect:   "suspect",
	RefreshSteady:    "steady",
	RefreshLoading:   "loading",
}

// String returns the reason's name ("requested", "redirect", "suspect",
// "steady", "loading"), or "RefreshReason(n)" for another value.
func (r RefreshReason) String() string {
	if r > 0 && int(r) < len(refreshReasonNames) {
		return refreshReasonNames[r]
	}
	return "RefreshReason(" + strconv.Itoa(int(r)) + ")"
}

// RefreshEvent describes one refresh.
type RefreshEvent struct {
	Reason   RefreshReason
	Duration time.Duration
	// Err is why no topology could be read; nil when one was.
	Err error
	// Changed reports whether the routing changed since the previous
	// refresh (a slot's master, the nodes routed to, a master's
	// replicas); MovedSlots counts slots whose master changed, and Added
	// and Removed are nodes' addresses (sorted) that joined or left the
	// routing. The comparison is with what the previous refresh read, not
	// with the routing a MOVED patched meanwhile, so a slot a MOVED
	// already moved still counts. Zero when Err is set.
	Changed        bool
	MovedSlots     int
	Added, Removed []string
}

// NodeEvent describes a node suspected or recovered. A node is reported
// suspect once, when it becomes so, on the goroutine that found it out
// (often a caller's), and recovered on the refresh goroutine.
type NodeEvent struct {
	Addr    string
	Suspect bool  // true: became suspect; false: recovered
	Cause   error // why it became suspect
}
