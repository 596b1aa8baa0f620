package conn

import (
	"errors"
	"fmt"

	"github.com/respwire/respwire/resp"
)

// deliverSkipped answers the oldest written request with readErr when that
// is a reply the reader read to its end and dropped (a *resp.SkippedError:
// over Options.MaxReplyElements or MaxBulkLen, or holding a scalar the codec
// refuses), so that only that reply's caller fails and the stream stays in
// step. It returns every other error, and a skipped frame that may have been
// a push (which answers no request), for the Conn to close with.
func (c *Conn) deliverSkipped(readErr error, origin uint64) error {
	var skipped *resp.SkippedError
	if !errors.As(readErr, &skipped) || c.mayBePush(skipped.Kind) {
		return readErr
	}
	return c.deliver(resp.Value{}, fmt.Errorf("conn: reply from %s: %w", c.addr, skipped), origin)
}

// mayBePush reports whether a frame of kind may have been a push frame: a
// RESP3 push, or in RESP2 an array while the connection is in subscribe mode
// or a Send waits (see pushInRESP2). It runs on the reader.
func (c *Conn) mayBePush(kind resp.Kind) bool {
	if kind == resp.Push {
		return true
	}
	return c.proto == 2 && kind == resp.Array && (c.subs.channels+c.subs.shard > 0 || c.sendWaiting())
}

// fail counts, in place of a reply, one that was read and dropped, and
// reports whether r is complete. r's error is the first such failure: Do,
// DoMulti and Send return it once all of the request's replies have been
// read, so the stream stays in step. It runs on the reader, under Conn.mu.
func (r *request) fail(err error) bool {
	if r.err == nil {
		r.err = err
	}
	switch r.shape {
	case shapeOne:
		return true
	case shapeMany:
		r.got++ // r.vals[r.got-1] stays the zero Value
		return r.got == len(r.vals)
	}
	return false // a Send: a dropped reply is not its barrier
}
