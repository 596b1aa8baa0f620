package resp

import (
	"bufio"
	"io"
	"math/bits"
	"sync"
)

// readBuffers pools the buffers Resize moves Readers between, by the bit
// length of their size: a connection that is busy for a while, then idle,
// then busy again takes its big buffer back instead of allocating and
// zeroing it again (half a MiB, for conn), and an idle one holds only its
// small buffer. A pooled buffer of another size with the same bit length is
// dropped rather than used. The collector empties the pools when they go
// unused.
var readBuffers [bits.UintSize + 1]sync.Pool // of *bufio.Reader

// getReadBuffer returns a bufio.Reader of size on src, pooled or new.
func getReadBuffer(src io.Reader, size int) *bufio.Reader {
	if br, ok := readBuffers[bits.Len(uint(size))].Get().(*bufio.Reader); ok && br.Size() == size {
		br.Reset(src)
		return br
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
	readBuffers[bits.Len(uint(br.Size()))].Put(br)
}
