package reassembly

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// tupleKey names a TCP conversation within one capture file, the same for
// both directions: the lower endpoint always comes first.
type tupleKey struct {
	file int
	a, b netip.AddrPort
}

func makeTupleKey(file int, src, dst netip.AddrPort) (k tupleKey, srcIsA bool) {
	if lessAddrPort(src, dst) {
		return tupleKey{file, src, dst}, true
	}
	return tupleKey{file, dst, src}, false
}

func lessAddrPort(x, y netip.AddrPort) bool {
	if c := x.Addr().Compare(y.Addr()); c != 0 {
		return c < 0
	}
	return x.Port() < y.Port()
}

// entry is the tracker's record of one conversation. It outlives the
// connection's analysis (conn, streams, parsers) for a while so that late
// packets on the same 4-tuple keep the Wireshark stream index they belong
// to.
type entry struct {
	key    tupleKey
	stream int // Wireshark tcp.stream
	// isn is the initial sequence number each endpoint (a=0, b=1) sent in
	// a SYN, when one was seen: a SYN with another ISN starts a new stream.
	isn    [2]uint32
	hasISN [2]bool
	// closedAt is when both sides finished (FIN both ways, or RST); zero
	// while open.
	closedAt time.Time
	lastSeen time.Time

	// live is the connection under analysis, nil once it was finalised.
	live *connState

	// list links for the tracker's LRU (active) or retired list.
	prev, next *entry
	list       *entryList
}

// entryList is an intrusive doubly linked list ordered by last activity,
// oldest first, so idle and retired entries are found in O(1).
type entryList struct {
	head, tail *entry
	n          int
}

func (l *entryList) pushBack(e *entry) {
	e.list, e.prev, e.next = l, l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
	l.n++
}

func (l *entryList) remove(e *entry) {
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
	e.prev, e.next, e.list = nil, nil, nil
	l.n--
}

func (l *entryList) moveToBack(e *entry) {
	if l.tail == e {
		return
	}
	l.remove(e)
	l.pushBack(e)
}

// tracker assigns Wireshark's tcp.stream indexes and keeps the table of
// conversations. It is not safe for concurrent use.
//
// Wireshark (packet-tcp.c) starts a new conversation, and so a new
// tcp.stream index, for the first packet of an unknown 4-tuple, and for a SYN
// without ACK on a known 4-tuple whose sender already sent a SYN with a
// different initial sequence number — whether or not the old conversation
// had closed. Indexes count every TCP conversation of the file, HTTP or not.
type tracker struct {
	table      map[tupleKey]*entry
	nextStream map[int]int // per file
	active     entryList   // entries with a live connection, LRU order
	retired    entryList   // entries kept only for their stream index
}

func newTracker() *tracker {
	return &tracker{table: make(map[tupleKey]*entry), nextStream: make(map[int]int)}
}

// lookup returns the entry for p's conversation, creating one (with a new
// stream index) when p starts a new conversation. replaced is the entry
// that p's SYN displaced from the 4-tuple, if any; its live connection must
// be finalised by the caller.
func (t *tracker) lookup(p *Packet, src, dst netip.AddrPort) (e *entry, side int, replaced *entry) {
	k, srcIsA := makeTupleKey(p.File, src, dst)
	side = 1
	if srcIsA {
		side = 0
	}
	e = t.table[k]
	if e != nil && isNewSYN(&p.TCP, e, side) {
		replaced = e
		t.unlink(e)
		delete(t.table, k)
		e = nil
	}
	if e == nil {
		e = &entry{key: k, stream: t.nextStream[p.File]}
		t.nextStream[p.File]++
		t.table[k] = e
		t.retired.pushBack(e) // moved to active when a connection is attached
	}
	if p.TCP.SYN && !p.TCP.ACK && !e.hasISN[side] {
		e.isn[side], e.hasISN[side] = p.TCP.Seq, true
	}
	if p.TCP.SYN && p.TCP.ACK && !e.hasISN[side] {
		// The SYN-ACK's sender's ISN: a later SYN from it with another ISN
		// is a new conversation too.
		e.isn[side], e.hasISN[side] = p.TCP.Seq, true
	}
	e.lastSeen = p.Time
	if e.list != nil {
		e.list.moveToBack(e)
	}
	return e, side, replaced
}

func isNewSYN(tcp *layers.TCP, e *entry, side int) bool {
	return tcp.SYN && !tcp.ACK && e.hasISN[side] && tcp.Seq != e.isn[side]
}

// activate moves e to the active list (it has a live connection now).
func (t *tracker) activate(e *entry) {
	t.unlink(e)
	t.active.pushBack(e)
}

// retire moves e to the retired list once its connection was finalised.
func (t *tracker) retire(e *entry) {
	t.unlink(e)
	t.retired.pushBack(e)
}

func (t *tracker) unlink(e *entry) {
	if e.list != nil {
		e.list.remove(e)
	}
}

// oldestActive returns the least recently seen entry with a live
// connection, or nil.
func (t *tracker) oldestActive() *entry { return t.active.head }

// dropRetired forgets retired entries last seen before cutoff: a packet on
// their 4-tuple after that starts a new stream index.
func (t *tracker) dropRetired(cutoff time.Time) {
	for e := t.retired.head; e != nil && e.lastSeen.Before(cutoff); e = t.retired.head {
		t.retired.remove(e)
		if t.table[e.key] == e {
			delete(t.table, e.key)
		}
	}
}
