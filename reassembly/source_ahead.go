package reassembly

import (
	"io"
	"time"
	"unsafe"
)

// A ring buffer's files hold one capture in the order it was taken, but
// their packets' timestamps need not rise across a boundary: packets
// received on several queues are stamped a little out of order, so the
// next file may begin with a packet stamped a moment before the last ones
// of the file before. Merged by time, the next file would begin while the
// file before is still open, and the two could not form a chain (its frames
// count on from the end of the file before, unknown until that ends): every
// connection open at the boundary would be cut in two.
//
// So when a file is about to begin while one other is open, the open one is
// read ahead for overlapTol. When it ends within that, the next file is
// held back until it has: the two files' packets keep the files' order,
// which is the order they were captured in, and the next file follows on
// from it. Two hosts' captures side by side go on longer than that, and
// are merged by time as before, the packets read ahead taken in their turn.
//
// Only a file of the same lane (a ring buffer's, by their names: see
// nameStem) is held back: a capture made beside a ring buffer, named
// otherwise, must not take a boundary of the ring, and the files of two
// legs, captured side by side for less than overlapTol (a test's, a lab's,
// on loopback), must not be woven into one. Captures side by side named
// alike but for a number (leg1, leg2) are told by how they begin: a
// capture started for some traffic begins with a connection's SYN, and
// the one begun second overlaps many packets of the other, where a ring
// buffer's next file begins wherever the one before filled up, mostly
// inside a connection, and before only its last packet or few. A file
// that begins with a SYN so continues an open file only when the lane is
// known to be a ring: that file continues another itself, or more files
// of the lane wait, or only its last packet comes after the SYN. At worst
// a ring of two files, whose second starts with a SYN stamped before
// several of the first file's last packets, is cut there, as between any
// two captures.

// aheadBytes bounds the memory read ahead of one file (packets of up to
// overlapTol), counting each packet's payload and aheadPacketCost: a file
// that holds more within that time is taken to go on, as a capture side by
// side does. A ring buffer's file that ends a moment after the next began
// has only a packet or few left; the bound is what a file side by side
// costs.
const (
	aheadBytes      = 4 << 20
	aheadPacketCost = int(unsafe.Sizeof(Packet{})) + 16 // a Packet, in a slice that may double
)

// endsFirst is called when f, the earliest pending file, has not begun.
// When exactly one other file of f's lane (a ring buffer's, by their
// names) is open, and it ends at most overlapTol after f's first packet
// (and, when that is a SYN, the lane's files are known to be a ring: the
// open file continues another, more files of the lane wait, or the open
// file has only its pending packet left), it holds f back until just after
// that file's last packet (hold) and reports true: that file's last
// packets are returned before f begins, and f then follows on from it
// (begin). Other files' packets keep their times' order. Files of other
// lanes are never held back this way: a capture made beside a ring buffer
// must not take a boundary of the ring.
func (m *mergeSource) endsFirst(f *captureFile) bool {
	l := m.lane(f)
	if l.open != 1 || l.parallel {
		return false
	}
	g := m.openIn(f.stem)
	if g == nil {
		return false
	}
	until := f.pkt.Time.Add(overlapTol)
	if g.pkt.Time.After(until) || !g.readAhead(until, aheadBytes) {
		return false
	}
	if f.pkt.TCP.SYN && g.chain == g.index && len(g.ahead) > 0 && !m.waits(f.stem, f) {
		return false // captures side by side named alike, or a ring not known yet
	}
	last := g.pkt.Time
	for i := range g.ahead {
		if t := g.ahead[i].Time; t.After(last) {
			last = t
		}
	}
	f.hold = last.Add(time.Nanosecond)
	m.down(0)
	return true
}

// openIn returns the open file of the lane of stem (begun, and with a
// pending packet: in the heap), or nil; the lane has one when its open
// count is 1.
func (m *mergeSource) openIn(stem string) *captureFile {
	for _, g := range m.heap {
		if g.begun && g.stem == stem {
			return g
		}
	}
	return nil
}

// waits reports whether a file of the lane of stem, other than except, has
// not begun yet.
func (m *mergeSource) waits(stem string, except *captureFile) bool {
	for _, g := range m.heap {
		if !g.begun && g != except && g.stem == stem {
			return true
		}
	}
	return false
}

// readAhead reads f's packets after the pending one into f.ahead, copies of
// their own, until one is stamped after until, or more than limit bytes
// (aheadPacketCost a packet, and its payload) were read, or the file ends.
// It reports whether the file ended with no packet stamped after until.
// The pending packet stays pending.
func (f *captureFile) readAhead(until time.Time, limit int) (ended bool) {
	size := 0
	for i := range f.ahead {
		size += len(f.ahead[i].TCP.Payload) + aheadPacketCost
		if f.ahead[i].Time.After(until) {
			return false
		}
	}
	if f.aheadErr != nil {
		return false
	}
	pending := f.pkt.owned()
	defer func() { f.pkt = pending }()
	for size <= limit {
		p, err := f.read1()
		if err == io.EOF {
			return true
		}
		if err != nil {
			f.aheadErr = err
			return false
		}
		f.ahead = append(f.ahead, p.owned())
		size += len(p.TCP.Payload) + aheadPacketCost
		if p.Time.After(until) {
			return false
		}
	}
	return false
}

// owned returns a copy of p that shares no bytes with the source's
// buffers, which the next read overwrites: its payload is copied, and the
// header's bytes and options, which point into those buffers and which
// nothing after the decoder reads, are left out. The TCP layer's hidden
// port slices, which gopacket's TransportFlow reads (its assembler keys
// out-of-order segments on them), are set from the copy; the exported
// method that does so is named for testing, and is the only way to set
// them without decoding again.
func (p *Packet) owned() Packet {
	q := *p
	q.TCP.Payload = append([]byte(nil), p.TCP.Payload...)
	q.TCP.Contents, q.TCP.Options, q.TCP.Padding = nil, nil, nil
	q.TCP.SetInternalPortsForTesting()
	return q
}
