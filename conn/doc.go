// Package conn is one auto-pipelined connection to a Redis server, with an
// atomic open → closing → closed lifecycle, and a Client that redials it.
package conn
