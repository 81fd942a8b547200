package reassembly

import (
	"io"
	"time"
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
// Captures side by side that last less than overlapTol (a test's, a lab's,
// on loopback) are told by how they begin. A capture started for some
// traffic begins with a connection's SYN, and the one begun second overlaps
// many packets of the other; a ring buffer's next file begins wherever the
// one before filled up, mostly inside a connection, and before only the
// last packet or few of the one before. A file that begins with a SYN so
// continues an open file only when that one continues another itself (the
// ring is known by then), or has only its last packet left. At worst, the
// first boundary of a ring buffer whose second file starts with a SYN
// stamped before several of the first file's last packets cuts the
// connections open there, as between any two captures.

// aheadBytes bounds the memory read ahead of one file (packets of up to
// overlapTol), counting each packet's payload and aheadPacketCost: a file
// that holds more within that time is taken to go on, as a capture side by
// side does.
const (
	aheadBytes      = 16 << 20
	aheadPacketCost = 256 // a Packet, about
)

// endsFirst is called when f, the earliest pending file, has not begun.
// When exactly one other file of f's lane is open (or, f's lane having
// none, of all files), and it ends at most overlapTol after f's first
// packet (and, when that is a SYN, the open file continues another or has
// only its pending packet left), it holds f back until just after that
// file's last packet (hold) and reports true: that file's last packets
// are returned before f begins, and f then follows on from it (begin).
// Other files' packets keep their times' order.
func (m *mergeSource) endsFirst(f *captureFile) bool {
	l := m.lane(f)
	var g *captureFile
	switch {
	case l.open == 1 && !l.parallel:
		g = m.openFile(func(g *captureFile) bool { return g.stem == f.stem })
	case l.open == 0 && l.ended != nil && !l.ended.followed:
		return false // it follows on from its lane's file before
	case m.all.open == 1 && !m.all.parallel:
		g = m.openFile(func(*captureFile) bool { return true })
	}
	if g == nil {
		return false
	}
	until := f.pkt.Time.Add(overlapTol)
	if g.pkt.Time.After(until) || !g.readAhead(until, aheadBytes) {
		return false
	}
	if f.pkt.TCP.SYN && g.chain == g.index && len(g.ahead) > 0 {
		return false // a capture side by side, or a ring not known yet
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

// openFile returns the first begun file in the heap that match accepts, or
// nil: with one file open, that file.
func (m *mergeSource) openFile(match func(*captureFile) bool) *captureFile {
	for _, g := range m.heap {
		if g.begun && match(g) {
			return g
		}
	}
	return nil
}

// readAhead reads f's packets after the pending one into f.ahead, copies of
// their own, until one is stamped after until, or more than limit bytes
// (aheadPacketCost a packet, and its payload) were read, or the file ends. It reports whether the file ended with no
// packet stamped after until. The pending packet stays pending.
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
