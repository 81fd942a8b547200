package reassembly

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// numberer assigns every packet its conversation: Wireshark's tcp.stream
// index in its file and a run-wide conversation number (the connection ID).
// It decides from packet headers and capture times alone, never from what
// reassembly later makes of a connection, so that it can run ahead of the
// reassembly workers of a sharded run (shard.go) and give the same numbers
// as a single reassembler.
//
// Wireshark (packet-tcp.c) starts a new conversation, and so a new
// tcp.stream index, for the first packet of an unknown 4-tuple, and for a
// SYN without ACK on a known 4-tuple whose sender's base sequence number
// differs: the ISN of its SYN or, when its first packet was no SYN, that
// packet's sequence number minus one — whether or not the old conversation
// had closed. Indexes count every TCP conversation of the file, HTTP or not.
// A 4-tuple unseen for longer than the retention (see Options.RetainIndex)
// is forgotten: its next packet starts a new conversation.
type numberer struct {
	table      map[tupleKey]*numEntry
	lru        numList     // oldest activity first
	nextStream map[int]int // per file
	nextConv   int

	retain    time.Duration
	now       time.Time // latest capture time seen
	nextSweep time.Time
}

// numEntry is the numberer's record of one conversation.
type numEntry struct {
	key      tupleKey
	stream   int
	conv     int
	base     [2]uint32 // per tuple side (a=0, b=1)
	hasBase  [2]bool
	lastSeen time.Time

	prev, next *numEntry
}

// numList is an intrusive doubly linked list of entries by last activity.
type numList struct{ head, tail *numEntry }

func (l *numList) pushBack(e *numEntry) {
	e.prev, e.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
}

func (l *numList) remove(e *numEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func newNumberer(retain time.Duration) *numberer {
	return &numberer{table: map[tupleKey]*numEntry{}, nextStream: map[int]int{}, retain: retain}
}

// assign stamps p with its conversation (p.stream, p.conv, p.fresh when p
// starts one), its tuple key and side, and the capture clock (p.now: the
// latest time seen so far, which drives every time-based decision
// downstream).
func (n *numberer) assign(p *Packet) {
	if p.Time.After(n.now) {
		n.now = p.Time
	}
	if !n.now.Before(n.nextSweep) {
		n.sweep()
	}
	src := netip.AddrPortFrom(p.Src, uint16(p.TCP.SrcPort))
	dst := netip.AddrPortFrom(p.Dst, uint16(p.TCP.DstPort))
	k, srcIsA := makeTupleKey(p.File, src, dst)
	side := 1
	if srcIsA {
		side = 0
	}
	tcp := &p.TCP
	e := n.table[k]
	fresh := false
	if e != nil && tcp.SYN && !tcp.ACK && e.hasBase[side] && tcp.Seq != e.base[side] {
		n.lru.remove(e)
		delete(n.table, k)
		e = nil
	}
	if e == nil {
		e = &numEntry{key: k, stream: n.nextStream[p.File], conv: n.nextConv}
		n.nextStream[p.File]++
		n.nextConv++
		n.table[k] = e
		fresh = true
	} else {
		n.lru.remove(e)
	}
	n.lru.pushBack(e)
	if !e.hasBase[side] {
		e.base[side], e.hasBase[side] = baseSeq(tcp), true
	}
	e.lastSeen = p.Time
	p.key, p.side, p.stream, p.conv, p.fresh, p.now = k, side, e.stream, e.conv, fresh, n.now
}

// baseSeq is the sequence number Wireshark counts a side's bytes from: the
// ISN of its SYN, or one before its first captured segment.
func baseSeq(tcp *layers.TCP) uint32 {
	if tcp.SYN {
		return tcp.Seq
	}
	return tcp.Seq - 1
}

// sweep forgets conversations quiet for longer than the retention. It runs
// on whole seconds of capture time (see clockTick), so that every shard of
// a sharded run sweeps at the same instants.
func (n *numberer) sweep() {
	at := clockTick(n.now)
	n.nextSweep = at.Add(time.Second)
	cutoff := at.Add(-n.retain)
	for e := n.lru.head; e != nil && e.lastSeen.Before(cutoff); e = n.lru.head {
		n.lru.remove(e)
		delete(n.table, e.key)
	}
}

// clockTick is the whole second of capture time at or before t: the
// instant periodic work (flushes, sweeps) is computed for, the same in
// every shard whichever packet triggers it.
func clockTick(t time.Time) time.Time { return t.Truncate(time.Second) }
