package slots

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/respwire/respwire/resp"
)

// ParseClusterShards builds a Topology from a CLUSTER SHARDS reply (Redis 7),
// in its RESP3 (maps) or RESP2 (flat arrays) shape. askedAddr is the address
// of the node that answered; its host stands in for endpoints the server does
// not know, and its port decides between each node's port and tls-port (see
// "Addresses" in the package doc). A malformed reply is an error starting
// "slots:".
//
// Unlike CLUSTER SLOTS, CLUSTER SHARDS reports failed and loading nodes (with
// their Health) and masters that serve no slot (shards with no Ranges). A
// shard listing a failed old master beside its online new one keeps the new
// one; a shard with neither master nor slots is skipped.
func ParseClusterShards(v resp.Value, askedAddr string) (*Topology, error) {
	t, err := parseClusterShards(v, askedAddr)
	if err != nil {
		return nil, fmt.Errorf("slots: CLUSTER SHARDS: %w", err)
	}
	return t, nil
}

func parseClusterShards(v resp.Value, askedAddr string) (*Topology, error) {
	elems, err := list(v)
	if err != nil {
		return nil, err
	}
	shards := make([]shardReply, len(elems))
	for i, e := range elems {
		if shards[i], err = readShard(e); err != nil {
			return nil, fmt.Errorf("shard %d: %w", i, err)
		}
	}
	host := askedHost(askedAddr)
	useTLS := askedTLSPort(shards, askedAddr)
	b := newBuilder()
	for i := range shards {
		if err := b.addShard(&shards[i], host, useTLS); err != nil {
			return nil, fmt.Errorf("shard %d: %w", i, err)
		}
	}
	return b.topology()
}

// shardReply is one shard of a CLUSTER SHARDS reply, read but not yet
// resolved into addresses.
type shardReply struct {
	slots []int64 // first and last slot of each range, alternating
	nodes []shardNode
}

// shardNode is one node of a shard, with both its ports.
type shardNode struct {
	Node
	ep            endpoint
	port, tlsPort int // 0 when not reported
}

// addShard adds a shard with its master, ranges and replicas.
func (b *builder) addShard(sr *shardReply, askedHost string, useTLS bool) error {
	master, err := sr.master()
	if err != nil || master < 0 {
		return err // master < 0: replicas of a forgotten master, serving nothing
	}
	m, err := sr.nodes[master].node(askedHost, useTLS)
	if err != nil {
		return fmt.Errorf("node %d: %w", master, err)
	}
	known := len(b.shards)
	shard, err := b.shard(m)
	if err != nil {
		return err
	}
	if shard < known {
		return fmt.Errorf("master %s leads another shard too", m.key())
	}
	for k := 0; k+1 < len(sr.slots); k += 2 {
		if err := b.addRange(shard, sr.slots[k], sr.slots[k+1]); err != nil {
			return err
		}
	}
	for j := range sr.nodes {
		if sr.nodes[j].Role == RoleMaster {
			continue // the master, or a stale one (see shardReply.master)
		}
		r, err := sr.nodes[j].node(askedHost, useTLS)
		if err != nil {
			return fmt.Errorf("node %d: %w", j, err)
		}
		if err := b.addReplica(shard, r); err != nil {
			return err
		}
	}
	return nil
}

// master returns the index of the shard's master. A shard whose master
// failed over may list the old one too, as a failed master; the online one
// is chosen and the other left out. A shard with no master and no slots
// yields -1, to be skipped: it has nothing to route to.
func (sr *shardReply) master() (int, error) {
	master, masters, online := -1, 0, 0
	for j := range sr.nodes {
		n := &sr.nodes[j]
		if n.Role != RoleMaster {
			continue
		}
		masters++
		if n.Health == HealthOnline {
			online++
			master = j
		} else if master < 0 {
			master = j
		}
	}
	switch {
	case masters == 0 && len(sr.slots) == 0:
		return -1, nil
	case masters == 0:
		return -1, errors.New("slots but no master")
	case masters > 1 && online != 1:
		return -1, fmt.Errorf("%d masters, %d of them online", masters, online)
	}
	return master, nil
}

// readShard reads one shard: a map of "slots" and "nodes".
func readShard(v resp.Value) (shardReply, error) {
	var sr shardReply
	kv, err := pairs(v)
	if err != nil {
		return sr, err
	}
	for k := 0; k < len(kv); k += 2 {
		key, err := text(kv[k])
		if err != nil {
			return sr, fmt.Errorf("key: %w", err)
		}
		switch key {
		case "slots":
			sr.slots, err = readShardSlots(kv[k+1])
		case "nodes":
			sr.nodes, err = readShardNodes(kv[k+1])
		}
		if err != nil {
			return sr, fmt.Errorf("%s: %w", key, err)
		}
	}
	return sr, nil
}

// readShardSlots reads the first and last slot of each range, alternating.
func readShardSlots(v resp.Value) ([]int64, error) {
	elems, err := list(v)
	if err != nil {
		return nil, err
	}
	if len(elems)%2 != 0 {
		return nil, fmt.Errorf("want first and last slots in pairs, got %d", len(elems))
	}
	slots := make([]int64, len(elems))
	for j, e := range elems {
		if slots[j], err = integer(e); err != nil {
			return nil, err
		}
	}
	return slots, nil
}

func readShardNodes(v resp.Value) ([]shardNode, error) {
	elems, err := list(v)
	if err != nil {
		return nil, err
	}
	nodes := make([]shardNode, len(elems))
	for j, e := range elems {
		if nodes[j], err = readShardNode(e); err != nil {
			return nil, fmt.Errorf("node %d: %w", j, err)
		}
	}
	return nodes, nil
}

// readShardNode reads one node: a map of id, port, tls-port, ip, endpoint,
// hostname, role, replication-offset and health; other fields are ignored.
func readShardNode(v resp.Value) (shardNode, error) {
	var sn shardNode
	kv, err := pairs(v)
	if err != nil {
		return sn, err
	}
	var role string
	for k := 0; k < len(kv); k += 2 {
		key, err := text(kv[k])
		if err != nil {
			return sn, fmt.Errorf("key: %w", err)
		}
		val := kv[k+1]
		switch key {
		case "id":
			sn.ID, err = text(val)
		case "port":
			sn.port, err = port(val)
		case "tls-port":
			sn.tlsPort, err = port(val)
		case "ip":
			sn.ep.ip, err = text(val)
		case "endpoint":
			err = sn.ep.set(val)
		case "hostname":
			sn.Hostname, err = text(val)
		case "role":
			role, err = text(val)
		case "health":
			sn.Health, err = text(val)
		}
		if err != nil {
			return sn, fmt.Errorf("%s: %w", key, err)
		}
	}
	switch role {
	case RoleMaster:
		sn.Role = RoleMaster
	case RoleReplica, "slave":
		sn.Role = RoleReplica
	default:
		return sn, fmt.Errorf("unknown role %q", role)
	}
	sn.Health = health(sn.Health)
	if sn.port == 0 && sn.tlsPort == 0 {
		return sn, errors.New("neither port nor tls-port")
	}
	return sn, nil
}

// node resolves the node's address: its tls-port when the client reached the
// asked node on a TLS port (or the node has no other), else its port.
func (sn *shardNode) node(askedHost string, useTLS bool) (Node, error) {
	p := sn.port
	if (useTLS && sn.tlsPort != 0) || p == 0 {
		p = sn.tlsPort
	}
	n := sn.Node
	var err error
	n.Addr, err = address(sn.ep.host(askedHost), p)
	return n, err
}

// askedTLSPort reports whether askedAddr's port is some node's tls-port (and
// not also its plain port): the client then speaks TLS to the cluster.
func askedTLSPort(shards []shardReply, askedAddr string) bool {
	_, ps, err := net.SplitHostPort(askedAddr)
	if err != nil {
		return false
	}
	asked, err := strconv.Atoi(ps)
	if err != nil || asked == 0 {
		return false
	}
	for _, s := range shards {
		for _, n := range s.nodes {
			if n.tlsPort == asked && n.port != asked {
				return true
			}
		}
	}
	return false
}
