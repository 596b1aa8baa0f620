package slots

import (
	"fmt"

	"github.com/respwire/respwire/resp"
)

// ParseClusterSlots builds a Topology from a CLUSTER SLOTS reply, in its
// RESP3 or RESP2 shape. askedAddr is the address of the node that answered;
// its host stands in for endpoints the server does not know (see
// "Addresses" in the package doc). A malformed reply is an error starting
// "slots:".
//
// CLUSTER SLOTS lists, per slot range, the master and then the replicas:
// each node as [endpoint, port, id, metadata]. The metadata (Redis 7) is a
// map, or a flat array in RESP2, that may hold "hostname" and "ip". The
// server leaves out replicas it deems unavailable (failed, or with a zero
// replication offset), so every node is HealthOnline.
func ParseClusterSlots(v resp.Value, askedAddr string) (*Topology, error) {
	ranges, err := list(v, "CLUSTER SLOTS reply")
	if err != nil {
		return nil, err
	}
	asked := askedHost(askedAddr)
	b := newBuilder()
	for i, r := range ranges {
		what := fmt.Sprintf("CLUSTER SLOTS range %d", i)
		elems, err := list(r, what)
		if err != nil {
			return nil, err
		}
		if len(elems) < 3 {
			return nil, fmt.Errorf("slots: %s: want first slot, last slot and master, got %d elements", what, len(elems))
		}
		first, err := integer(elems[0], what+" first slot")
		if err != nil {
			return nil, err
		}
		last, err := integer(elems[1], what+" last slot")
		if err != nil {
			return nil, err
		}
		master, err := slotsNode(elems[2], asked, what+" master")
		if err != nil {
			return nil, err
		}
		master.Role = RoleMaster
		shard, err := b.shard(master)
		if err != nil {
			return nil, err
		}
		if err := b.addRange(shard, first, last); err != nil {
			return nil, err
		}
		for j, e := range elems[3:] {
			replica, err := slotsNode(e, asked, fmt.Sprintf("%s replica %d", what, j))
			if err != nil {
				return nil, err
			}
			replica.Role = RoleReplica
			if err := b.addReplica(shard, replica); err != nil {
				return nil, err
			}
		}
	}
	return b.topology()
}

// slotsNode reads one node of a CLUSTER SLOTS range:
// [endpoint, port, id?, metadata?], extra elements ignored.
func slotsNode(v resp.Value, askedHost, what string) (Node, error) {
	elems, err := list(v, what)
	if err != nil {
		return Node{}, err
	}
	if len(elems) < 2 {
		return Node{}, fmt.Errorf("slots: %s: want endpoint and port, got %d elements", what, len(elems))
	}
	var ep endpoint
	if err := ep.set(elems[0], what); err != nil {
		return Node{}, err
	}
	p, err := port(elems[1], what)
	if err != nil {
		return Node{}, err
	}
	n := Node{Health: HealthOnline}
	if len(elems) > 2 {
		if n.ID, err = text(elems[2], what+" id"); err != nil {
			return Node{}, err
		}
	}
	if len(elems) > 3 {
		meta, err := pairs(elems[3], what+" metadata")
		if err != nil {
			return Node{}, err
		}
		for k := 0; k < len(meta); k += 2 {
			key, err := text(meta[k], what+" metadata key")
			if err != nil {
				return Node{}, err
			}
			switch key {
			case "hostname":
				n.Hostname, err = text(meta[k+1], what+" hostname")
			case "ip":
				ep.ip, err = text(meta[k+1], what+" ip")
			}
			if err != nil {
				return Node{}, err
			}
		}
	}
	if n.Hostname == "" && ep.ip != "" && ep.given && ep.preferred != "" && ep.preferred != "?" {
		// Metadata carries the IP only when the endpoint is something
		// else: with cluster-preferred-endpoint-type hostname, the
		// hostname is the endpoint and is not repeated.
		n.Hostname = ep.preferred
	}
	n.Addr, err = address(ep.host(askedHost), p, what)
	return n, err
}
