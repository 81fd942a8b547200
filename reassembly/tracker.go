package reassembly

import (
	"net/netip"
	"time"
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

// entry is the tracker's record of one conversation under reassembly. It
// outlives the connection's analysis (conn, streams, parsers) for a while so
// that late packets of a finished conversation are recognised as such.
type entry struct {
	key    tupleKey
	stream int // Wireshark tcp.stream
	conv   int // run-wide conversation number: the connection ID
	// closedAt is when tracking ended (FIN both ways, RST, idle, eviction);
	// zero while open.
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

// tracker keeps the table of conversations under reassembly, keyed by
// 4-tuple; the numberer (numbering.go) has decided which conversation each
// packet belongs to. It is not safe for concurrent use.
type tracker struct {
	table   map[tupleKey]*entry
	active  entryList // entries with a live connection, LRU order
	retired entryList // finished entries, kept to recognise late packets
}

func newTracker() *tracker {
	return &tracker{table: make(map[tupleKey]*entry)}
}

// lookup returns the entry of p's conversation, creating it when p starts
// one (p.fresh), or nil for a late packet of a conversation this tracker no
// longer holds. replaced is the entry of an earlier conversation on the
// same 4-tuple that p's displaced; its live connection must be finalised by
// the caller.
func (t *tracker) lookup(p *Packet) (e, replaced *entry) {
	e = t.table[p.key]
	if p.fresh {
		if e != nil {
			replaced = e
			t.unlink(e)
		}
		e = &entry{key: p.key, stream: p.stream, conv: p.conv}
		t.table[p.key] = e
		t.retired.pushBack(e) // moved to active when a connection is attached
	}
	if e == nil {
		return nil, nil
	}
	e.lastSeen = p.Time
	if e.list != nil {
		e.list.moveToBack(e)
	}
	return e, replaced
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

// dropRetired forgets retired entries last seen before cutoff (the
// numberer forgets their 4-tuples at the same time).
func (t *tracker) dropRetired(cutoff time.Time) {
	for e := t.retired.head; e != nil && e.lastSeen.Before(cutoff); e = t.retired.head {
		t.retired.remove(e)
		if t.table[e.key] == e {
			delete(t.table, e.key)
		}
	}
}
