package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Servers named by REDIS_ADDR and REDIS_CLUSTER_ADDRS: nodes without a
// process, whose helpers that need one return ErrExternal.

// externalNode wraps an existing server; it must answer PING.
func externalNode(ctx context.Context, addr string) (*Node, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("redistest: bad address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("redistest: bad port in %q", addr)
	}
	n := &Node{Addr: net.JoinHostPort(host, portText), Port: port, external: true}
	if _, err := n.Do(ctx, "PING"); err != nil {
		return nil, fmt.Errorf("redistest: external server %s: %w", addr, err)
	}
	return n, nil
}

// externalCluster wraps an existing cluster: every node that the first
// reachable address knows and does not consider failing.
func externalCluster(ctx context.Context, addrs []string) (*TestCluster, error) {
	var errs []error
	for _, addr := range addrs {
		seed, err := externalNode(ctx, addr)
		if err == nil {
			var v *clusterView
			if v, err = seed.view(ctx); err == nil {
				return clusterFromView(ctx, v)
			}
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("redistest: no usable node in %s=%v: %w", EnvClusterAddrs, addrs, errors.Join(errs...))
}

func clusterFromView(ctx context.Context, v *clusterView) (*TestCluster, error) {
	var masters, replicas []*Node
	for _, vn := range v.nodes {
		if vn.failing() {
			continue
		}
		n, err := externalNode(ctx, vn.addr)
		if err != nil {
			return nil, err
		}
		n.ID = vn.id
		if vn.isMaster() {
			masters = append(masters, n)
		} else {
			replicas = append(replicas, n)
		}
	}
	byAddr := func(a, b *Node) int { return strings.Compare(a.Addr, b.Addr) }
	slices.SortFunc(masters, byAddr)
	slices.SortFunc(replicas, byAddr)
	return &TestCluster{nodes: append(masters, replicas...)}, nil
}
