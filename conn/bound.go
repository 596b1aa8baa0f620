package conn

import "context"

// defaultMaxWriteBuffer is Options.MaxWriteBuffer when 0.
const defaultMaxWriteBuffer = 16 << 20

// waitRoom waits, with c.mu held (it releases it while waiting), until the
// commands held for writing take less than c.maxPending bytes: those taken
// by a write still in progress (c.inWrite) and those in c.wbuf, withdrawn
// ones included until they are dropped. It drops withdrawn commands itself
// once they are half of c.wbuf, so that callers that left do not hold the
// buffer full for those still waiting, at a cost that stays linear. It
// returns nil when there is room or the Conn is closing (the caller then
// sees c.err), ctx.Err() when ctx ends first.
func (c *Conn) waitRoom(ctx context.Context) error {
	for c.err == nil && c.buffered() >= c.maxPending {
		if c.pending.worthDropping(len(c.wbuf) + c.held.bytes) {
			c.wbuf = c.pending.dropWithdrawn(c.wbuf, &c.held)
			continue
		}
		if c.room == nil {
			c.room = make(chan struct{})
		}
		room := c.room
		c.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			c.mu.Lock()
			return ctx.Err()
		}
		c.mu.Lock()
	}
	return nil
}

// buffered is the size of the commands held for writing, with c.mu held:
// those of a write in progress and those in c.wbuf, their held arguments
// included (see Conn.appendCommand).
func (c *Conn) buffered() int { return c.inWrite + len(c.wbuf) + c.held.bytes }

// madeRoom wakes the callers waiting in waitRoom, with c.mu held: a write
// finished, or the Conn is closing.
func (c *Conn) madeRoom() {
	if c.room != nil {
		close(c.room)
		c.room = nil
	}
}
