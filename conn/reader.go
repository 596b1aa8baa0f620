package conn

import (
	"fmt"
	"runtime"

	"github.com/respwire/respwire/resp"
)

// readLoop is the reader goroutine: it decodes every frame, hands push frames
// to OnPush and replies to the request at the head of the queue. When the
// socket fails (or Close closed it) it closes the Conn, waits for the writer
// and marks the Conn closed.
func (c *Conn) readLoop() {
	defer c.finish()
	for {
		v, err := c.rd.Read()
		if err != nil {
			c.closeWith(connectionLost(err))
			return
		}
		if v.Kind() == resp.Push {
			c.push(v)
			continue
		}
		if c.proto == 2 && c.pushInRESP2(v) {
			continue
		}
		if err := c.deliver(v); err != nil {
			c.closeWith(connectionLost(err))
			return
		}
		if c.rd.Buffered() == 0 {
			// Let the callers just answered run before this goroutine
			// reads again: the read will most likely find nothing yet
			// and park, and that system call need not delay them.
			runtime.Gosched()
		}
	}
}

// deliver gives v to the oldest written request.
func (c *Conn) deliver(v resp.Value) error {
	c.mu.Lock()
	if c.queue.len() == c.unwritten {
		c.mu.Unlock()
		return fmt.Errorf("conn: a %v reply that no command is waiting for: %w", v.Kind(), resp.ErrProtocol)
	}
	r := c.queue.at(0)
	complete := r.take(v)
	if complete {
		c.queue.pop()
	}
	c.mu.Unlock()
	if complete {
		r.answer()
	}
	return nil
}
