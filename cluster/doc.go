// Package cluster is a Redis Cluster client: it routes each command by hash
// slot, follows MOVED and ASK redirects and refreshes the topology.
package cluster
