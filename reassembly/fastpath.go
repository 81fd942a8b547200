package reassembly

import (
	"github.com/gopacket/gopacket"
)

// halfState follows one direction of a connection (by tuple side) on the
// in-order fast path.
//
// Most segments of a capture arrive in order. Those are handed straight to
// the HTTP parser, trimming retransmitted bytes, without gopacket's
// assembler: that roughly halves the cost per packet. The first time a
// segment leaves a hole, the direction is handed to the assembler for the
// rest of its life (slow), which queues out-of-order data, fills holes from
// retransmissions and gives up on lost bytes after Options.GapWait.
type halfState struct {
	started bool   // next is known
	next    uint32 // sequence number of the next byte expected
	slow    bool   // handed to gopacket's assembler
	finDone bool   // the FIN was reached in order (or the half ended)
	// synOnly says that next was set by a SYN and nothing followed it
	// yet: a later SYN with another ISN replaces it (see fastPath), and
	// alt keeps the one it replaced, in case the first data says that
	// one was acknowledged after all.
	synOnly, hasAlt bool
	alt             uint32
	// cut says that the capture's snaplen cut the tail of the last
	// segment: the bytes from next to cutEnd are lost unless another copy
	// of the segment follows at once (cutSeg is where they were lost;
	// see settleCut).
	cut    bool
	cutEnd uint32
	cutSeg Segment
}

// fastPath processes a packet of tuple side on the in-order path; it
// returns false when the packet must go to the assembler instead.
func (cs *connState) fastPath(p *Packet, side int) bool {
	h := &cs.half[side]
	if h.slow {
		return false
	}
	tcp := &p.TCP
	seq := tcp.Seq
	if tcp.SYN {
		// A SYN-ACK with another ISN than the one before, before any byte
		// followed: the first never reached the client, which sent its
		// SYN again, and the server, which had dropped its half-open
		// state (a full backlog, a SYN cookie), answered afresh. The
		// client acknowledges the second, and Wireshark counts the
		// direction from it too. (A SYN without ACK and another ISN is a
		// new conversation: the numberer never brings it here.)
		switch {
		case !h.started && len(tcp.Payload) > 0 && !tcp.ACK && !tcp.FIN && p.MissingBytes == 0:
			// TCP Fast Open: the client's first bytes ride on its SYN,
			// from ISN+1. They are delivered as they are; a server that
			// refused them has the client send them again after the
			// handshake, which the overlap rule below then drops.
			h.started, h.next = true, seq+1
			d := cs.direction(side)
			cs.deliver(d, tcp.Payload, p, h.next)
			h.next += uint32(len(tcp.Payload))
		case !h.started:
			h.started, h.next, h.synOnly = true, seq+1, true
		case h.synOnly && seq+1 != h.next:
			h.alt, h.hasAlt, h.next = h.next, true, seq+1
		}
		return true // other data on a SYN is not HTTP we follow
	}
	if h.synOnly {
		// The first byte (or FIN) after the SYNs says which ISN counts:
		// the latest, unless it starts right after the one before (the
		// first SYN-ACK was only late, and the client took it).
		if h.hasAlt && seq == h.alt { // alt never equals next
			h.next = h.alt
		}
		h.synOnly, h.hasAlt = false, false
	}
	if !h.started {
		// No SYN seen for this direction: start at the first segment.
		h.started, h.next = true, seq
	}
	segLen := uint32(len(tcp.Payload) + p.MissingBytes)
	diff := int32(seq - h.next)
	if diff > 0 {
		// A hole: bytes before this segment are missing (yet).
		cs.goSlow(side, p)
		return false
	}
	if h.finDone {
		return true // after the FIN: retransmissions only
	}
	payload := tcp.Payload
	if diff < 0 {
		// Retransmission or overlap: keep only bytes not yet delivered.
		over := uint32(-diff)
		switch {
		case over >= segLen:
			payload, segLen = nil, 0
		case over >= uint32(len(payload)):
			// The new bytes are all past what the snaplen kept.
			segLen -= over
			payload = nil
		default:
			payload = payload[over:]
			segLen -= over
		}
		if segLen == 0 && !(tcp.FIN && int32(seq+uint32(len(tcp.Payload)+p.MissingBytes)-h.next) == 0) {
			return true
		}
	}
	d := cs.direction(side)
	if len(payload) > 0 {
		cs.deliver(d, payload, p, h.next)
	}
	if missing := int(segLen) - len(payload); missing > 0 && !tcp.FIN {
		// The capture's snaplen cut this segment: its tail is lost, unless
		// the capture has another, whole copy of it next (two interfaces
		// of different snaplens): the gap waits for the next packet.
		h.next += uint32(len(payload))
		if end := h.next + uint32(missing); !h.cut || int32(end-h.cutEnd) > 0 {
			h.cutEnd = end
		}
		h.cut, h.cutSeg = true, cs.lastSeg[d]
		cs.cutPending = true
		return true
	} else if missing > 0 {
		cs.gap(d, cs.lastSeg[d], missing)
	}
	h.next += segLen
	if tcp.FIN {
		h.next++
		h.finDone = true
		cs.endDirection(d)
	}
	return true
}

// settleCut decides the cut tails of cs's directions (halfState.cut) before
// packet p of tuple side is processed (nil: the connection ends). A
// segment of the same direction that brings bytes of the cut is another
// copy of it (or a retransmission): it fills the cut on the fast path. Any
// other packet says that no copy followed: the tail is lost, and the gap
// is told before the packet, as it would have been at once.
func (cs *connState) settleCut(p *Packet, side int) {
	cs.cutPending = false
	for s := range cs.half {
		h := &cs.half[s]
		if !h.cut {
			continue
		}
		if int32(h.cutEnd-h.next) <= 0 {
			h.cut = false // filled
			continue
		}
		if p != nil && s == side && !h.slow && !p.TCP.SYN && !p.TCP.RST && len(p.TCP.Payload) > 0 &&
			int32(p.TCP.Seq-h.next) <= 0 && int32(p.TCP.Seq+uint32(len(p.TCP.Payload))-h.next) > 0 {
			cs.cutPending = true
			continue
		}
		h.cut = false
		missing := int(h.cutEnd - h.next)
		h.next = h.cutEnd
		cs.gap(cs.direction(s), h.cutSeg, missing)
	}
}

// deliver feeds in-order bytes of direction d to its parser: payload, the
// bytes of packet p from sequence number seq on.
func (cs *connState) deliver(d Direction, payload []byte, p *Packet, seq uint32) {
	parser := cs.parser(d)
	if parser.Done() {
		return
	}
	cs.wire = wireNums{seq: seq, ack: p.TCP.Ack, hasSeq: true, hasAck: p.TCP.ACK}
	cs.parse(parser, d, payload, cs.segment(d, gopacket.CaptureInfo{Timestamp: p.Time, InterfaceIndex: int(p.Frame)})) // TLS: parse may decrypt
	cs.wire = wireNums{}
	if parser.Done() || parser.Protocol() != ProtoUnknown {
		cs.classify()
	}
}

// gap tells direction d's parser that missing bytes (-1: unknown) were lost
// and counts the gap.
func (cs *connState) gap(d Direction, seg Segment, missing int) {
	cs.conn.Gaps[d]++
	cs.r.stats.Gaps++
	if cs.tlsGap(d, seg, missing) { // TLS: the decryptor tells the parser
		return
	}
	if p := cs.parser(d); !p.Done() {
		p.Gap(seg, missing)
	}
}

// endDirection tells direction d's parser its stream ended.
func (cs *connState) endDirection(d Direction) {
	if cs.ended[d] {
		return
	}
	cs.ended[d] = true
	cs.tlsEnd(d) // TLS: count a record cut off
	if p := cs.parsers[d]; p != nil && !p.Done() {
		p.End(cs.lastSeg[d])
	}
	cs.classify()
}

// goSlow hands tuple side's direction to gopacket's assembler from its
// next expected byte on: a zero-length segment at h.next starts the
// assembler's half there (a forced start, see Accept), so the bytes between
// it and p's segment count as a hole the assembler waits for.
func (cs *connState) goSlow(side int, p *Packet) {
	h := &cs.half[side]
	h.slow = true
	if !cs.gpStarted {
		cs.gpStarted, cs.gpFirstSide = true, side
	}
	// A copy of p's header keeps the decoded ports that TransportFlow (the
	// assembler's key) reads from unexported fields.
	start := p.TCP
	start.Seq = h.next
	start.SYN, start.FIN, start.RST = false, false, false
	start.Payload = nil
	cs.r.assemble(cs, side, &start, p)
}
