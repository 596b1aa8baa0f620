package sentinel

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// replicaReads sends read-only commands to the replicas the sentinels
// report healthy. Its one goroutine refreshes the list of replicas when
// told to (at start, after a switch, on a sentinel event about a replica,
// after a replica failed a call) and keeps a conn.Client per replica.
type replicaReads struct {
	c        *Client
	commands atomic.Pointer[commandTable] // nil until COMMAND was read
	set      atomic.Pointer[[]*replica]
	stale    chan struct{} // one pending refresh
}

type replica struct {
	addr   string
	client *conn.Client
}

func newReplicaReads(c *Client) *replicaReads {
	r := &replicaReads{c: c, stale: make(chan struct{}, 1)}
	r.set.Store(&[]*replica{})
	c.dir.spawn(r.loop)
	return r
}

// invalidate asks for a refresh of the replicas.
func (r *replicaReads) invalidate() {
	select {
	case r.stale <- struct{}{}:
	default:
	}
}

// routes reports whether args go to a replica: a replica is known and the
// command is read-only and not blocking.
func (r *replicaReads) routes(args []string) bool {
	t := r.commands.Load()
	return t != nil && len(*r.set.Load()) > 0 && t.readOnly(args)
}

// routesAll is routes for a batch: every command must qualify.
func (r *replicaReads) routesAll(cmds [][]string) bool {
	if len(cmds) == 0 {
		return false
	}
	for _, cmd := range cmds {
		if !r.routes(cmd) {
			return false
		}
	}
	return true
}

// routesCmd is routes for a conn.Command.
func (r *replicaReads) routesCmd(cmd *conn.Command) bool {
	t := r.commands.Load()
	return t != nil && len(*r.set.Load()) > 0 && t.readOnlyCmd(cmd)
}

// routesAllCmd is routesAll for conn.Commands.
func (r *replicaReads) routesAllCmd(cmds []conn.Command) bool {
	if len(cmds) == 0 {
		return false
	}
	for i := range cmds {
		if !r.routesCmd(&cmds[i]) {
			return false
		}
	}
	return true
}

// anyToMaster is toMaster for a batch: the call's error or any reply's.
func (r *replicaReads) anyToMaster(vs []resp.Value, err error) bool {
	if r.toMaster(err) {
		return true
	}
	for _, v := range vs {
		if r.toMaster(v.Err()) {
			return true
		}
	}
	return false
}

// pick returns a random connected replica, or nil.
func (r *replicaReads) pick() *conn.Client {
	set := *r.set.Load()
	if len(set) == 0 {
		return nil
	}
	start := rand.N(len(set))
	for i := range set {
		if rc := set[(start+i)%len(set)].client; rc.Connected() {
			return rc
		}
	}
	return nil
}

// do sends args to a replica. ok is false when the master should serve
// them instead: no replica is connected, the replica is loading, or it
// refused the call before writing it.
func (r *replicaReads) do(ctx context.Context, args []string) (resp.Value, error, bool) {
	rc := r.pick()
	if rc == nil {
		return resp.Value{}, nil, false
	}
	v, err := rc.Do(ctx, args...)
	if r.toMaster(err) {
		return resp.Value{}, nil, false
	}
	return v, err, true
}

func (r *replicaReads) doMulti(ctx context.Context, cmds [][]string) ([]resp.Value, error, bool) {
	rc := r.pick()
	if rc == nil {
		return nil, nil, false
	}
	vs, err := rc.DoMulti(ctx, cmds...)
	if r.anyToMaster(vs, err) {
		return nil, nil, false
	}
	return vs, err, true
}

// toMaster reports whether a replica's error sends the call to the master:
// LOADING, or a call the replica never wrote. A lost replica also asks for
// a fresh list.
func (r *replicaReads) toMaster(err error) bool {
	if err == nil {
		return false
	}
	var re *resp.Error
	if errors.As(err, &re) {
		return re.Code == "LOADING"
	}
	r.invalidate()
	return conn.SafeToRetry(err)
}

// loop refreshes the replicas each time they are stale, until the Client
// closes; then it closes their clients.
func (r *replicaReads) loop() {
	life := r.c.dir.life
	defer func() {
		for _, rp := range *r.set.Load() {
			_ = rp.client.Close()
		}
	}()
	for {
		select {
		case <-r.stale:
		case <-life.Done():
			return
		}
		if r.refresh(life) != nil {
			// Try again after a pause, unless told sooner.
			if linkBackoff.Wait(life, 4) != nil {
				return
			}
			r.invalidate()
		}
	}
}

// refresh reads COMMAND once from the master, asks the sentinels for the
// master's replicas and installs the healthy ones, reusing the clients of
// those already known and closing the others.
func (r *replicaReads) refresh(ctx context.Context) error {
	if r.commands.Load() == nil && r.c.master != nil {
		v, err := r.c.master.Do(ctx, "COMMAND")
		if err != nil {
			return err
		}
		t := parseCommands(v)
		r.commands.Store(&t)
	}
	v, err := r.c.dir.askAll(ctx, "SENTINEL", "REPLICAS", r.c.dir.name)
	if err != nil {
		return err
	}
	healthy := healthyReplicas(v, r.c.dir.currentMaster())
	old := *r.set.Load()
	byAddr := make(map[string]*replica, len(old))
	for _, rp := range old {
		byAddr[rp.addr] = rp
	}
	next := make([]*replica, 0, len(healthy))
	for _, addr := range healthy {
		if rp := byAddr[addr]; rp != nil {
			next = append(next, rp)
			delete(byAddr, addr)
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, r.c.dir.timeout)
		rc, err := conn.NewClient(dctx, addr, &r.c.opts.Conn)
		cancel()
		if err == nil {
			next = append(next, &replica{addr: addr, client: rc})
		}
	}
	r.set.Store(&next)
	for _, rp := range byAddr {
		_ = rp.client.Close()
	}
	return nil
}

// healthyReplicas lists the replicas of a SENTINEL REPLICAS reply that can
// serve reads: not flagged down or disconnected, with their link to the
// master up, and not the master itself.
func healthyReplicas(v resp.Value, master string) []string {
	var addrs []string
	for _, e := range v.Elems() {
		f := fieldMap(e)
		if f["ip"] == "" || f["port"] == "" || f["master-link-status"] != "ok" {
			continue
		}
		down := false
		for flag := range strings.SplitSeq(f["flags"], ",") {
			switch flag {
			case "s_down", "o_down", "disconnected":
				down = true
			}
		}
		if addr := net.JoinHostPort(f["ip"], f["port"]); !down && addr != master {
			addrs = append(addrs, addr)
		}
	}
	return addrs
}
