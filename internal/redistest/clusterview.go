package redistest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/respwire/respwire/resp"
)

// numSlots is the number of hash slots in a Redis Cluster.
const numSlots = 16384

// viewNode is one line of CLUSTER NODES: what the asked node believes about
// one node of the cluster.
type viewNode struct {
	id       string
	addr     string // ip:port, without @busport and hostname
	flags    map[string]bool
	masterID string // "" for masters
	linked   bool   // link-state connected
	slots    [][2]int
	// Only on the asked node's own line: slots it is migrating or importing.
	migrating, importing map[int]string // slot → other node's ID
}

func (v *viewNode) isMaster() bool { return v.flags["master"] }
func (v *viewNode) failing() bool {
	return v.flags["fail"] || v.flags["fail?"] || v.flags["handshake"] || v.flags["noaddr"]
}

// clusterView is one node's CLUSTER NODES, indexed by node ID, with the
// owner of every slot.
type clusterView struct {
	self   string // the asked node's ID
	nodes  map[string]*viewNode
	owners [numSlots]string // master ID per slot, "" when unassigned
}

// view asks n for its CLUSTER NODES.
func (n *Node) view(ctx context.Context) (*clusterView, error) {
	v, err := n.Do(ctx, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	return parseView(n, v)
}

// parseView parses n's reply to CLUSTER NODES.
func parseView(n *Node, reply resp.Value) (*clusterView, error) {
	if err := reply.Err(); err != nil {
		return nil, fmt.Errorf("redistest: %s CLUSTER NODES: %w", n.Addr, err)
	}
	text, err := reply.Text()
	if err == nil {
		var v *clusterView
		if v, err = parseClusterNodes(text); err == nil {
			return v, nil
		}
	}
	return nil, fmt.Errorf("redistest: %s CLUSTER NODES: %w", n.Addr, err)
}

// parseClusterNodes parses the text of CLUSTER NODES:
// <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv>
// <config-epoch> <link-state> <slot> <slot> ...
func parseClusterNodes(text string) (*clusterView, error) {
	v := &clusterView{nodes: make(map[string]*viewNode)}
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("cluster nodes: short line %q", line)
		}
		n := &viewNode{id: f[0], flags: make(map[string]bool), linked: f[7] == "connected"}
		n.addr, _, _ = strings.Cut(f[1], "@")
		n.addr, _, _ = strings.Cut(n.addr, ",")
		for flag := range strings.SplitSeq(f[2], ",") {
			n.flags[flag] = true
		}
		if f[3] != "-" {
			n.masterID = f[3]
		}
		for _, s := range f[8:] {
			if err := n.addSlots(s); err != nil {
				return nil, fmt.Errorf("cluster nodes: %w in line %q", err, line)
			}
		}
		if n.flags["myself"] {
			v.self = n.id
		}
		v.nodes[n.id] = n
		for _, r := range n.slots {
			for slot := r[0]; slot <= r[1]; slot++ {
				v.owners[slot] = n.id
			}
		}
	}
	return v, nil
}

// addSlots parses one slot entry: "5", "0-5460", "[93->-<id>]", "[93-<-<id>]".
func (n *viewNode) addSlots(s string) error {
	if strings.HasPrefix(s, "[") {
		body := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if slot, id, ok := strings.Cut(body, "->-"); ok {
			return addMark(&n.migrating, slot, id)
		}
		if slot, id, ok := strings.Cut(body, "-<-"); ok {
			return addMark(&n.importing, slot, id)
		}
		return fmt.Errorf("bad slot entry %q", s)
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	first, err1 := parseSlot(lo)
	last, err2 := parseSlot(hi)
	if err1 != nil || err2 != nil || first > last {
		return fmt.Errorf("bad slot entry %q", s)
	}
	n.slots = append(n.slots, [2]int{first, last})
	return nil
}

func addMark(marks *map[int]string, slot, id string) error {
	n, err := parseSlot(slot)
	if err != nil {
		return err
	}
	if *marks == nil {
		*marks = make(map[int]string)
	}
	(*marks)[n] = id
	return nil
}

func parseSlot(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n >= numSlots {
		return 0, fmt.Errorf("bad slot %q", s)
	}
	return n, nil
}

// replicasOf lists the IDs of the nodes this view holds as replicas of
// masterID.
func (v *clusterView) replicasOf(masterID string) []string {
	var ids []string
	for id, n := range v.nodes {
		if n.masterID == masterID && !n.isMaster() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
