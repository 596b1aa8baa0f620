// Package pubsub subscribes to channels, patterns and shard channels on one
// server or across a cluster, with one race-free connection per node.
package pubsub
