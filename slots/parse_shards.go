package slots

import (
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
	shards, err := list(v, "CLUSTER SHARDS reply")
	if err != nil {
		return nil, err
	}
	parsed := make([]shardReply, 0, len(shards))
	for i, s := range shards {
		sr, err := readShard(s, fmt.Sprintf("CLUSTER SHARDS shard %d", i))
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, sr)
	}

	host := askedHost(askedAddr)
	useTLS := askedTLSPort(parsed, askedAddr)
	b := newBuilder()
	for _, sr := range parsed {
		master, err := sr.master()
		if err != nil {
			return nil, err
		}
		if master == nil {
			continue // replicas of a forgotten master, serving nothing
		}
		m, err := master.node(host, useTLS)
		if err != nil {
			return nil, err
		}
		known := len(b.shards)
		shard, err := b.shard(m)
		if err != nil {
			return nil, err
		}
		if shard < known {
			return nil, fmt.Errorf("slots: %s: master %s leads another shard too", sr.what, m.key())
		}
		for k := 0; k+1 < len(sr.slots); k += 2 {
			if err := b.addRange(shard, sr.slots[k], sr.slots[k+1]); err != nil {
				return nil, err
			}
		}
		for j := range sr.nodes {
			if sr.nodes[j].Role == RoleMaster {
				continue // the master, or a stale one (see shardReply.master)
			}
			r, err := sr.nodes[j].node(host, useTLS)
			if err != nil {
				return nil, err
			}
			if err := b.addReplica(shard, r); err != nil {
				return nil, err
			}
		}
	}
	return b.topology()
}

// shardReply is one shard of a CLUSTER SHARDS reply, read but not yet
// resolved into addresses.
type shardReply struct {
	what  string  // where it is in the reply, for errors
	slots []int64 // first and last slot of each range, alternating
	nodes []shardNode
}

// shardNode is one node of a shard, with both its ports.
type shardNode struct {
	Node
	what          string
	ep            endpoint
	port, tlsPort int // 0 when not reported
}

// master returns the shard's master. A shard whose master failed over may
// list the old one too, as a failed master; the online one is chosen and the
// other left out. A shard with no master and no slots yields nil, to be
// skipped: it has nothing to route to.
func (sr *shardReply) master() (*shardNode, error) {
	var master *shardNode
	masters, online := 0, 0
	for j := range sr.nodes {
		n := &sr.nodes[j]
		if n.Role != RoleMaster {
			continue
		}
		masters++
		if n.Health == HealthOnline {
			online++
			master = n
		} else if master == nil {
			master = n
		}
	}
	switch {
	case masters == 0 && len(sr.slots) == 0:
		return nil, nil
	case masters == 0:
		return nil, fmt.Errorf("slots: %s: slots but no master", sr.what)
	case masters > 1 && online != 1:
		return nil, fmt.Errorf("slots: %s: %d masters, %d of them online", sr.what, masters, online)
	}
	return master, nil
}

func readShard(v resp.Value, what string) (shardReply, error) {
	sr := shardReply{what: what}
	kv, err := pairs(v, what)
	if err != nil {
		return sr, err
	}
	for k := 0; k < len(kv); k += 2 {
		key, err := text(kv[k], what+" key")
		if err != nil {
			return sr, err
		}
		switch key {
		case "slots":
			elems, err := list(kv[k+1], what+" slots")
			if err != nil {
				return sr, err
			}
			if len(elems)%2 != 0 {
				return sr, fmt.Errorf("slots: %s slots: want first and last slots in pairs, got %d", what, len(elems))
			}
			sr.slots = make([]int64, len(elems))
			for j, e := range elems {
				if sr.slots[j], err = integer(e, what+" slots"); err != nil {
					return sr, err
				}
			}
		case "nodes":
			elems, err := list(kv[k+1], what+" nodes")
			if err != nil {
				return sr, err
			}
			sr.nodes = make([]shardNode, len(elems))
			for j, e := range elems {
				if sr.nodes[j], err = readShardNode(e, fmt.Sprintf("%s node %d", what, j)); err != nil {
					return sr, err
				}
			}
		}
	}
	return sr, nil
}

func readShardNode(v resp.Value, what string) (shardNode, error) {
	sn := shardNode{what: what}
	kv, err := pairs(v, what)
	if err != nil {
		return sn, err
	}
	var role string
	for k := 0; k < len(kv); k += 2 {
		key, err := text(kv[k], what+" key")
		if err != nil {
			return sn, err
		}
		val := kv[k+1]
		switch key {
		case "id":
			sn.ID, err = text(val, what+" id")
		case "port":
			sn.port, err = port(val, what+" port")
		case "tls-port":
			sn.tlsPort, err = port(val, what+" tls-port")
		case "ip":
			sn.ep.ip, err = text(val, what+" ip")
		case "endpoint":
			err = sn.ep.set(val, what)
		case "hostname":
			sn.Hostname, err = text(val, what+" hostname")
		case "role":
			role, err = text(val, what+" role")
		case "health":
			sn.Health, err = text(val, what+" health")
		}
		if err != nil {
			return sn, err
		}
	}
	switch role {
	case RoleMaster:
		sn.Role = RoleMaster
	case RoleReplica, "slave":
		sn.Role = RoleReplica
	default:
		return sn, fmt.Errorf("slots: %s: unknown role %q", what, role)
	}
	sn.Health = health(sn.Health)
	if sn.port == 0 && sn.tlsPort == 0 {
		return sn, fmt.Errorf("slots: %s: neither port nor tls-port", what)
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
	n.Addr, err = address(sn.ep.host(askedHost), p, sn.what)
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
