package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/respwire/respwire/internal/appendbuf"
	"github.com/respwire/respwire/resp"
)

// DoStream sends one command whose reply is a bulk string (GET, GETRANGE,
// HGET, DUMP, ...) and writes the string to w as it comes off the socket,
// instead of holding it in memory: w is handed pieces of the read buffer
// and of a pooled 64 KiB chunk read straight from the socket, each valid
// only during its Write call. When w is an io.ReaderFrom (a *bytes.Buffer,
// say) and ctx can never end, w's ReadFrom reads the body from the socket
// itself, into its own memory, with no chunk in between (see
// resp.Reader.ReadBulkTo). It returns how many bytes w took. Other callers'
// commands are pipelined around it as for Do.
//
// A reply that is not a bulk string is not written: an error reply returns
// the *resp.Error, a null one resp.ErrNull, any other kind an error wrapping
// ErrNotBulk that names it, with 0 bytes.
//
// w is called on the goroutine that reads the connection (the caller's own,
// when its context can never end and the socket is lent; else the Conn's
// reader goroutine), so the replies behind this one wait for it, and a w
// that blocks holds up the Conn, its Close included: w must not call into
// the same Conn, and should not wait on anything slow. w is never called
// after DoStream returns.
//
// When ctx ends first, DoStream returns ctx.Err() at once (waiting only for
// a Write in progress, never for the socket) and the rest of the reply is
// read and dropped. When w fails, the rest is read and dropped too and
// DoStream returns a *resp.WriteError wrapping w's error. Either way the
// Conn stays in step and open. When the connection breaks mid-reply, the
// Conn closes as for Do, and DoStream returns the bytes w took with an error
// wrapping ErrClosed.
func (c *Conn) DoStream(ctx context.Context, w io.Writer, args ...string) (int64, error) {
	if h := c.hooks; h != nil && h.Command != nil {
		return c.doStreamHooked(ctx, w, args)
	}
	return c.doStream(ctx, w, args, nil)
}

// doStream is DoStream. When written is not nil, it is set as do sets it.
func (c *Conn) doStream(ctx context.Context, w io.Writer, args []string, written *bool) (int64, error) {
	if err := checkCommand(args); err != nil {
		return 0, err
	}
	if ended(ctx) {
		return 0, c.ctxEnded(ctx)
	}
	st := &streamTarget{w: w, busy: &c.inStream}
	if _, ok := w.(io.ReaderFrom); ok && ctx.Done() == nil {
		st.direct = true
	}
	r := c.getRequest(shapeOne)
	r.blocking = isBlocking(args)
	if err := c.lock(ctx, r); err != nil {
		recycle(r)
		return 0, err
	}
	if kind := commandState(args); kind != stateNone {
		c.noteState(kind, args)
	}
	r.attachStream(st, &c.streams)
	c.wbuf = resp.AppendCommand(c.wbuf, args...)
	c.unlock(r)
	err := c.wait(ctx, r, written)
	n, werr := st.leave()
	if err != nil {
		return n, err
	}
	v := r.val
	recycle(r)
	return n, streamResult(st, v, werr)
}

// DoBuffer is DoStream into memory: it appends the bulk string the command
// returns to dst and returns the extended slice, allocating only when dst
// has no room for it (then a larger array, grown as the bytes arrive). When
// ctx can never end, the bytes are read from the socket straight into dst.
// With an error, what it returns is dst as given.
func (c *Conn) DoBuffer(ctx context.Context, dst []byte, args ...string) ([]byte, error) {
	b := appendbuf.Writer{Buf: dst}
	if _, err := c.DoStream(ctx, &b, args...); err != nil {
		return dst, err
	}
	return b.Buf, nil
}

// streamResult is DoStream's error for the reply v of a request that
// streamed to st: w's error, or what v was when it was not a bulk string.
func streamResult(st *streamTarget, v resp.Value, werr error) error {
	if st.streamed {
		if werr != nil {
			return &resp.WriteError{Err: werr}
		}
		return nil
	}
	if err := v.Err(); err != nil {
		return err
	}
	if v.IsNull() {
		return resp.ErrNull
	}
	return fmt.Errorf("%w: a %v reply", ErrNotBulk, v.Kind())
}

// ErrNotBulk is what DoStream and DoBuffer return, wrapped, for a reply
// that is neither a bulk string, a null nor an error reply.
var ErrNotBulk = errors.New("conn: DoStream: the reply is not a bulk string")

// streamTarget is where the reply of a DoStream goes: its writer, guarded so
// that the writer is never called once the caller has left.
type streamTarget struct {
	mu  sync.Mutex
	w   io.Writer
	n   int64 // bytes w took
	err error // w's first error; nothing more is written after it
	// gone: the caller left, or is leaving: nothing more is written. It
	// is set before leave takes mu, so the reader stops writing at once.
	gone atomic.Bool
	// busy is the Conn's inStream, set while w runs: the reader reads
	// nothing then, and liveness must not take that for silence.
	busy *atomic.Bool

	// streamed is set by the reader, before the reply is delivered, when
	// the reply was a bulk string that went to w.
	streamed bool
	// direct: w is an io.ReaderFrom that may read the body from the socket
	// itself (see directTarget). Only for a caller whose context can never
	// end, which leaves only once the reply is read or the Conn is closing:
	// a socket read in progress is then all that leave may wait for.
	direct bool
}

// directTarget is a streamTarget whose writer reads the body itself.
type directTarget streamTarget

func (d *directTarget) Write(p []byte) (int, error) { return (*streamTarget)(d).Write(p) }

// ReadFrom hands src, the rest of the body, to the writer's ReadFrom, with
// the lock held, so that the writer's memory is not written once the caller
// has left. After a failure, or once the caller left, it takes nothing and
// the Reader drops the rest.
func (d *directTarget) ReadFrom(src io.Reader) (int64, error) {
	s := (*streamTarget)(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone.Load() || s.err != nil {
		return 0, errStreamLeft
	}
	s.busy.Store(true)
	n, err := s.w.(io.ReaderFrom).ReadFrom(src)
	s.busy.Store(false)
	s.n += n
	s.err = err
	return n, err
}

// errStreamLeft stops a body's copy to a writer that is no longer wanted.
var errStreamLeft = errors.New("conn: DoStream: the caller left")

// Write passes p to the caller's writer unless it failed or the caller
// left. It never fails itself, so the resp.Reader reads the whole body and
// stays in step whatever happens to the writer.
func (s *streamTarget) Write(p []byte) (int, error) {
	s.mu.Lock()
	if !s.gone.Load() && s.err == nil {
		s.busy.Store(true)
		k, err := s.w.Write(p)
		s.busy.Store(false)
		s.n += int64(k)
		if err == nil && k < len(p) {
			err = io.ErrShortWrite
		}
		s.err = err
	}
	s.mu.Unlock()
	return len(p), nil
}

// leave marks the caller gone, once no Write is in progress, and returns
// what the writer took and its error.
func (s *streamTarget) leave() (int64, error) {
	s.gone.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.err
}

// attachStream makes r a DoStream's request, counted in streams (the Conn's
// count of them) until r is recycled.
func (r *request) attachStream(st *streamTarget, streams *atomic.Int32) {
	streams.Add(1)
	r.stream, r.streams = st, streams
}

// headStream returns the streamTarget of the oldest written request, if it
// is a DoStream's and a frame that began in socket read number origin can
// be its reply; else nil.
func (c *Conn) headStream(origin uint64) *streamTarget {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.pending.oldest(); r != nil && r.stream != nil && origin > r.sent {
		return r.stream
	}
	return nil
}

// readStream reads the next frame, which begins in socket read number
// origin, for st: a bulk string goes to st's writer, anything else is
// returned (see resp.Reader.ReadBulkTo).
func (c *Conn) readStream(st *streamTarget, origin uint64) (resp.Value, uint64, error) {
	var w io.Writer = st
	if st.direct {
		w = (*directTarget)(st)
	}
	n, v, err := c.rd.ReadBulkTo(w)
	if err != nil {
		var we *resp.WriteError
		if !errors.As(err, &we) {
			return resp.Value{}, origin, err
		}
		// The writer failed (its error is in st already), or its
		// ReadFrom returned short of the body's end: either way the
		// Reader read past the rest, in step.
		st.mu.Lock()
		if st.err == nil && !st.gone.Load() {
			st.err = we.Err
		}
		st.mu.Unlock()
	}
	if n >= 0 {
		st.streamed = true
		return resp.Value{}, origin, nil
	}
	return v, origin, nil
}

// DoStream is Conn.DoStream on the Client's shared Conn (a dedicated one for
// a blocking command), sent again on the next Conn only when it was never
// written, as for Do. A command that would change the shared Conn's state
// is refused unsent (ErrSharedState).
func (c *Client) DoStream(ctx context.Context, w io.Writer, args ...string) (int64, error) {
	if err := checkShared(args); err != nil {
		return 0, err
	}
	if isBlocking(args) {
		var n int64
		err := c.onDedicated(ctx, func(cn *Conn) (err error) {
			n, err = cn.DoStream(ctx, w, args...)
			return err
		})
		return n, err
	}
	cn := c.current.Load()
	for {
		n, err := cn.DoStream(ctx, w, args...)
		if !retryable(err) {
			return n, err
		}
		if cn, err = c.next(ctx, cn); err != nil {
			return 0, err
		}
	}
}

// DoBuffer is Conn.DoBuffer on the Client's shared Conn, as DoStream.
func (c *Client) DoBuffer(ctx context.Context, dst []byte, args ...string) ([]byte, error) {
	b := appendbuf.Writer{Buf: dst}
	if _, err := c.DoStream(ctx, &b, args...); err != nil {
		return dst, err
	}
	return b.Buf, nil
}
