package resp

import (
	"bufio"
	"io"
	"sync"
)

// readBuffers pools the buffers Resize moves Readers between, one pool per
// size: a connection that is busy for a while, then idle, then busy again
// takes its big buffer back instead of allocating and zeroing it again
// (half a MiB, for conn), and an idle one holds only its small buffer. The
// collector empties the pools when they go unused.
var readBuffers sync.Map // int → *sync.Pool of *bufio.Reader

// getReadBuffer returns a bufio.Reader of size on src, pooled or new.
func getReadBuffer(src io.Reader, size int) *bufio.Reader {
	if p, ok := readBuffers.Load(size); ok {
		if br, ok := p.(*sync.Pool).Get().(*bufio.Reader); ok {
			br.Reset(src)
			return br
		}
	}
	return bufio.NewReaderSize(src, size)
}

// putReadBuffer pools br, which holds no bytes anyone will read, for the
// next Resize to its size. A nil br is nothing to pool.
func putReadBuffer(br *bufio.Reader) {
	if br == nil {
		return
	}
	br.Reset(nil)
	p, ok := readBuffers.Load(br.Size())
	if !ok {
		p, _ = readBuffers.LoadOrStore(br.Size(), new(sync.Pool))
	}
	p.(*sync.Pool).Put(br)
}
