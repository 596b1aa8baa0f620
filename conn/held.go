package conn

import (
	"net"
	"unsafe"

	"github.com/respwire/respwire/resp"
)

// heldMin is the size from which an argument is held out of the write
// buffer, on a socket that writes vectors (see Conn.appendCommand): the
// write then takes its bytes from the caller's own string, one copy (the
// kernel's) instead of two. Below it, copying into the buffer costs less
// than the two pieces of a vector it would take.
const heldMin = 1 << 10

// heldArg is an argument left out of the write buffer: its bytes belong at
// offset at, between its bulk header and its CRLF.
type heldArg struct {
	at int
	s  string
}

// heldArgs are the arguments held out of one write buffer, in buffer order,
// and their size.
type heldArgs struct {
	args  []heldArg
	bytes int
}

// heldListBytes is the memory a list of held arguments takes, its strings
// left out (they are the callers').
func heldListBytes(l []heldArg) int { return cap(l) * int(unsafe.Sizeof(heldArg{})) }

// appendCommand appends args to c.wbuf as r's, with c.mu held, as
// resp.AppendCommand does, except that on a socket that writes vectors an
// argument of heldMin bytes or more of a patient caller (whose context
// never ends) is held out of the buffer (see heldArg): only its header and
// CRLF go in, and r counts it. A patient caller cannot return before its
// bytes are written: its reply comes after them, and a teardown answers it
// only once the socket is closed, when no write is in progress. A caller
// whose context can end may leave while its bytes are being written, and
// an argument may be a view of bytes it then reuses (cluster.Client.DoCmd
// views a Command's []byte arguments as strings), so its arguments are
// copied.
func (c *Conn) appendCommand(r *request, args []string) {
	if c.plain && r.patient && anyHeld(args) {
		c.appendHolding(r, args)
		return
	}
	c.wbuf = resp.AppendCommand(c.wbuf, args...)
}

// appendHolding is appendCommand for a command with an argument to hold.
func (c *Conn) appendHolding(r *request, args []string) {
	c.wbuf = resp.AppendArrayHeader(c.wbuf, len(args))
	for _, arg := range args {
		if len(arg) < heldMin {
			c.wbuf = resp.AppendBulkString(c.wbuf, arg)
			continue
		}
		c.wbuf = resp.AppendBulkHeader(c.wbuf, len(arg))
		c.held.args = append(c.held.args, heldArg{at: len(c.wbuf), s: arg})
		c.held.bytes += len(arg)
		r.held++
		r.heldBytes += len(arg)
		c.wbuf = append(c.wbuf, '\r', '\n')
	}
}

// anyHeld reports whether an argument of args is big enough to be held.
func anyHeld(args []string) bool {
	for _, arg := range args {
		if len(arg) >= heldMin {
			return true
		}
	}
	return false
}

// vectorWriter writes a taken buffer and its held arguments with writev, in
// pieces of at most writeChunk bytes. It belongs to whoever is writing (see
// Conn.writing), so its slices are reused from one write to the next.
type vectorWriter struct {
	pieces [][]byte    // the next write's pieces, at most writeChunk bytes
	size   int         // their bytes
	bufs   net.Buffers // pieces, as WriteTo consumes them
}

// write writes buf with held's bytes at their places, through c.nc. Each
// full piece of writeChunk bytes counts as progress (see Conn.activity), as
// the pieces of a plain buffer do.
func (w *vectorWriter) write(c *Conn, buf []byte, held []heldArg) error {
	at := 0
	for _, h := range held {
		if err := w.add(c, buf[at:h.at]); err != nil {
			return err
		}
		if err := w.add(c, unsafe.Slice(unsafe.StringData(h.s), len(h.s))); err != nil {
			return err
		}
		at = h.at
	}
	if err := w.add(c, buf[at:]); err != nil {
		return err
	}
	return w.send(c)
}

// add gathers p for writing, sending the pieces gathered whenever they reach
// writeChunk bytes. It only reads p: a held string's bytes are never written
// to.
func (w *vectorWriter) add(c *Conn, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), writeChunk-w.size)
		w.pieces = append(w.pieces, p[:n])
		w.size += n
		p = p[n:]
		if w.size == writeChunk {
			if err := w.send(c); err != nil {
				return err
			}
			c.writeProgress.Add(1)
		}
	}
	return nil
}

// bytes is the memory w's list of pieces takes, the pieces left out.
func (w *vectorWriter) bytes() int { return cap(w.pieces) * int(unsafe.Sizeof([]byte(nil))) }

// send writes the pieces gathered, in one writev unless the kernel takes
// them in parts, and forgets them.
func (w *vectorWriter) send(c *Conn) error {
	if w.size == 0 {
		return nil
	}
	w.bufs = w.pieces
	c.writes.Add(1)
	n, err := w.bufs.WriteTo(c.nc)
	c.counts.bytesWritten.Add(uint64(n))
	clear(w.pieces) // no reference to a caller's string outlives its write
	w.pieces, w.size, w.bufs = w.pieces[:0], 0, nil
	return err
}
