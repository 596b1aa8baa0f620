// Package slots maps keys to Redis Cluster hash slots (CRC16/XMODEM modulo
// 16384, with {hash tags}) and parses the cluster topology from CLUSTER SLOTS
// and CLUSTER SHARDS.
package slots
