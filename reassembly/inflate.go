package reassembly

import (
	"errors"
	"io"
	"sync"
)

// Inflating ahead. A gzipped capture inflated on the goroutine that also
// decodes its packets took two and a half times as long as the plain
// file: inflating costs more than everything else that goroutine does.
// inflateAhead moves it to a goroutine of its own, a few chunks ahead of
// the reader, so that the two run side by side.
//
// It is written here rather than taken from klauspost/pgzip, which does the
// same, because pgzip drops what it inflated of a block when the block
// then fails (a damaged capture lost up to a block of packets before the
// damage, and one damaged in its first block did not open at all), fills
// whole blocks before handing any on (a capture piped in on standard
// input was held back), and waits in Close for a read in flight.

// inflateChunk and inflateChunks size the read-ahead: each read of the
// decompressor fills at most one chunk (it returns what it has inflated
// so far, a deflate window or less), and at most inflateChunks wait for
// the reader. 1 MiB in all per file.
const (
	inflateChunk  = 64 << 10
	inflateChunks = 16
)

// errInflateClosed is what a read after Close returns.
var errInflateClosed = errors.New("read after close")

// inflateAhead reads r, a decompressor, on a goroutine of its own. Its
// Read hands on the bytes of each read in order, then that read's error:
// the data that came before damage is never lost.
type inflateAhead struct {
	chunks chan inflated // the goroutine's reads, in order
	free   chan []byte   // chunk buffers given back to the goroutine
	done   chan struct{} // closed by Close
	once   sync.Once

	cur []byte // what is left of the chunk being read
	buf []byte // that chunk's buffer, to give back
	err error  // the error that came with it, once cur is read
}

// inflated is one read of the decompressor.
type inflated struct {
	b   []byte
	err error
}

// newInflateAhead starts reading r.
func newInflateAhead(r io.Reader) *inflateAhead {
	a := &inflateAhead{
		chunks: make(chan inflated, inflateChunks),
		free:   make(chan []byte, inflateChunks),
		done:   make(chan struct{}),
	}
	for range inflateChunks {
		a.free <- make([]byte, inflateChunk)
	}
	go a.run(r)
	return a
}

// run reads r into free buffers until an error (io.EOF included) or Close.
// One buffer is read into at a time, and every buffer is either free, in
// chunks or held by the reader, so neither channel ever blocks for lack
// of room.
func (a *inflateAhead) run(r io.Reader) {
	defer close(a.chunks)
	for {
		select {
		case <-a.done:
			return
		default:
		}
		var b []byte
		select {
		case b = <-a.free:
		case <-a.done:
			return
		}
		n, err := r.Read(b)
		select {
		case a.chunks <- inflated{b[:n], err}:
		case <-a.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (a *inflateAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)]
			a.buf = nil
		}
		c, ok := <-a.chunks
		if !ok {
			return 0, errInflateClosed
		}
		a.buf, a.cur, a.err = c.b, c.b, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the goroutine. It does not wait for a read in flight (of a
// stalled pipe, say): the goroutine ends when that read returns, which
// closing the file makes happen.
func (a *inflateAhead) Close() error {
	a.once.Do(func() { close(a.done) })
	return nil
}
