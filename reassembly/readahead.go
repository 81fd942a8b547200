package reassembly

import (
	"io"
)

// readAheadBatch is how many packets travel between the goroutines at once:
// enough to make the channel's cost per packet negligible, small enough to
// keep latency low for live captures.
const readAheadBatch = 256

// packetBatch holds copies of packets read ahead, their payloads packed in
// one buffer.
type packetBatch struct {
	pkts []Packet
	buf  []byte
	err  error // the source's error after the last packet (io.EOF at the end)
	// stats is the source's counts when the batch was sent.
	stats SourceStats
}

// readAhead is a Source that reads and decodes packets of another Source in
// its own goroutine, so that reading and decoding run on one core while
// reassembly and analysis run on another. Packets come out in the same
// order, so results are identical to reading directly.
type readAhead struct {
	src   Source
	full  chan *packetBatch
	free  chan *packetBatch
	stop  chan struct{}
	cur   *packetBatch
	i     int
	err   error
	stats SourceStats // as of the batch being returned
}

// ReadAhead returns a Source that reads src in a separate goroutine. Close
// stops that goroutine and closes src. Stats may be called at any time; it
// reports the counts up to the packets already returned by Next, and the
// whole source once Next returned an error.
func ReadAhead(src Source) Source {
	r := &readAhead{
		src:  src,
		full: make(chan *packetBatch, 4),
		free: make(chan *packetBatch, 6),
		stop: make(chan struct{}),
	}
	for i := 0; i < 6; i++ {
		r.free <- &packetBatch{pkts: make([]Packet, 0, readAheadBatch), buf: make([]byte, 0, 256<<10)}
	}
	go r.loop()
	return r
}

func (r *readAhead) loop() {
	defer close(r.full)
	for {
		var b *packetBatch
		select {
		case b = <-r.free:
		case <-r.stop:
			return
		}
		b.pkts, b.buf, b.err = b.pkts[:0], b.buf[:0], nil
		for len(b.pkts) < readAheadBatch {
			p, err := r.src.Next()
			if err != nil {
				b.err = err
				break
			}
			if len(b.buf)+len(p.TCP.Payload) > cap(b.buf) && len(b.pkts) > 0 {
				// The payload buffer is full: send the batch and copy p
				// (still valid: the source reuses it only on the next call)
				// into a fresh one. A full buffer is never grown, because
				// the consumer reads the payloads sliced from it.
				b.stats = r.src.Stats()
				if !r.send(b) {
					return
				}
				select {
				case b = <-r.free:
				case <-r.stop:
					return
				}
				b.pkts, b.buf, b.err = b.pkts[:0], b.buf[:0], nil
			}
			b.pkts = append(b.pkts, *p)
			q := &b.pkts[len(b.pkts)-1]
			off := len(b.buf)
			b.buf = append(b.buf, p.TCP.Payload...)
			q.TCP.Payload = b.buf[off:len(b.buf):len(b.buf)]
			// Layer contents are not used past decoding; drop references
			// into the source's buffers.
			q.TCP.Contents, q.TCP.Options, q.TCP.Padding = nil, nil, nil
		}
		b.stats = r.src.Stats()
		if !r.send(b) || b.err != nil {
			return
		}
	}
}

// send hands a batch to the consumer; it reports false when stopped.
func (r *readAhead) send(b *packetBatch) bool {
	select {
	case r.full <- b:
		return true
	case <-r.stop:
		return false
	}
}

// Next implements Source.
func (r *readAhead) Next() (*Packet, error) {
	for {
		if r.cur != nil && r.i < len(r.cur.pkts) {
			p := &r.cur.pkts[r.i]
			r.i++
			return p, nil
		}
		if r.err != nil {
			return nil, r.err
		}
		if r.cur != nil {
			if r.cur.err != nil {
				r.err = r.cur.err
			}
			r.free <- r.cur
			r.cur = nil
			continue
		}
		b, ok := <-r.full
		if !ok {
			r.err = io.EOF
			continue
		}
		r.cur, r.i, r.stats = b, 0, b.stats
	}
}

// Stats implements Source: the counts as of the batch Next is returning
// packets from (the whole source once Next returned an error). The source
// itself is only ever touched by the reading goroutine.
func (r *readAhead) Stats() SourceStats { return r.stats }

// Close implements Source: it stops the reading goroutine, then closes the
// underlying source.
func (r *readAhead) Close() error {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	// Drain so the goroutine can finish; it closes full when done.
	for range r.full {
	}
	return r.src.Close()
}
