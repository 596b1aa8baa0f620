// Package resp is the RESP3 and RESP2 wire codec: a Reader that decodes every
// RESP3 type into a Value that owns its memory, and append-style encoders.
// It does no network I/O and starts no goroutines.
package resp
