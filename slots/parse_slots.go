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
	t, err := parseClusterSlots(v, askedHost(askedAddr))
	if err != nil {
		return nil, fmt.Errorf("slots: CLUSTER SLOTS: %w", err)
	}
	return t, nil
}

func parseClusterSlots(v resp.Value, askedHost string) (*Topology, error) {
	ranges, err := list(v)
	if err != nil {
		return nil, err
	}
	b := newBuilder()
	for i, r := range ranges {
		if err := b.addSlotsRange(r, askedHost); err != nil {
			return nil, fmt.Errorf("range %d: %w", i, err)
		}
	}
	return b.topology()
}

// addSlotsRange adds one range of a CLUSTER SLOTS reply:
// [first slot, last slot, master, replicas...].
func (b *builder) addSlotsRange(v resp.Value, askedHost string) error {
	elems, err := list(v)
	if err != nil {
		return err
	}
	if len(elems) < 3 {
		return fmt.Errorf("want first slot, last slot and master, got %d elements", len(elems))
	}
	first, err := integer(elems[0])
	if err != nil {
		return fmt.Errorf("first slot: %w", err)
	}
	last, err := integer(elems[1])
	if err != nil {
		return fmt.Errorf("last slot: %w", err)
	}
	master, err := slotsNode(elems[2], askedHost)
	if err != nil {
		return fmt.Errorf("master: %w", err)
	}
	master.Role = RoleMaster
	shard, err := b.shard(master)
	if err != nil {
		return err
	}
	if err := b.addRange(shard, first, last); err != nil {
		return err
	}
	for j, e := range elems[3:] {
		replica, err := slotsNode(e, askedHost)
		if err != nil {
			return fmt.Errorf("replica %d: %w", j, err)
		}
		replica.Role = RoleReplica
		if err := b.addReplica(shard, replica); err != nil {
			return err
		}
	}
	return nil
}

// slotsNode reads one node of a CLUSTER SLOTS range:
// [endpoint, port, id?, metadata?], extra elements ignored.
func slotsNode(v resp.Value, askedHost string) (Node, error) {
	elems, err := list(v)
	if err != nil {
		return Node{}, err
	}
	if len(elems) < 2 {
		return Node{}, fmt.Errorf("want endpoint and port, got %d elements", len(elems))
	}
	var ep endpoint
	if err := ep.set(elems[0]); err != nil {
		return Node{}, fmt.Errorf("endpoint: %w", err)
	}
	p, err := port(elems[1])
	if err != nil {
		return Node{}, fmt.Errorf("port: %w", err)
	}
	n := Node{Health: HealthOnline}
	if len(elems) > 2 {
		if n.ID, err = text(elems[2]); err != nil {
			return Node{}, fmt.Errorf("id: %w", err)
		}
	}
	if len(elems) > 3 {
		if err := readSlotsMetadata(elems[3], &n, &ep); err != nil {
			return Node{}, fmt.Errorf("metadata: %w", err)
		}
	}
	if n.Hostname == "" && ep.ip != "" && ep.given && ep.preferred != "" && ep.preferred != "?" {
		// Metadata carries the IP only when the endpoint is something
		// else: with cluster-preferred-endpoint-type hostname, the
		// hostname is the endpoint and is not repeated.
		n.Hostname = ep.preferred
	}
	n.Addr, err = address(ep.host(askedHost), p)
	return n, err
}

// readSlotsMetadata reads the hostname and ip a node's metadata may hold.
func readSlotsMetadata(v resp.Value, n *Node, ep *endpoint) error {
	meta, err := pairs(v)
	if err != nil {
		return err
	}
	for k := 0; k < len(meta); k += 2 {
		key, err := text(meta[k])
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		switch key {
		case "hostname":
			n.Hostname, err = text(meta[k+1])
		case "ip":
			ep.ip, err = text(meta[k+1])
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}
