package reassembly

import (
	"encoding/binary"
	"github.com/ntlmscope/ntlmscope/internal/freelist"
	"net/netip"
	"time"
)

// tupleKey names a TCP conversation within one capture file, the same for
// both directions: the lower endpoint always comes first. It holds no
// pointer (netip.Addr does), so maps of keys cost the garbage collector
// nothing, and it is 44 bytes instead of 72.
type tupleKey struct {
	a, b   [16]byte // addresses in 16-byte form
	pa, pb uint16
	file   uint32
	v4     bool // the addresses are IPv4 (not IPv4-mapped IPv6)
}

func makeTupleKey(file int, src, dst netip.AddrPort) (k tupleKey, srcIsA bool) {
	srcIsA = lessAddrPort(src, dst)
	lo, hi := dst, src
	if srcIsA {
		lo, hi = src, dst
	}
	return tupleKey{a: lo.Addr().As16(), b: hi.Addr().As16(), pa: lo.Port(), pb: hi.Port(),
		file: uint32(file), v4: lo.Addr().Is4()}, srcIsA
}

// hash returns a fixed (not per-run) FNV-1a hash of the key: it picks the
// shard that owns the conversation, so that runs are reproducible.
func (k *tupleKey) hash() uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, b := range k.a {
		h = (h ^ uint64(b)) * prime
	}
	for _, b := range k.b {
		h = (h ^ uint64(b)) * prime
	}
	for _, v := range [...]uint64{uint64(k.pa), uint64(k.pb), uint64(k.file)} {
		h = (h ^ v) * prime
	}
	return h
}

// side returns the endpoint of tuple side s (0: a, 1: b).
func (k *tupleKey) side(s int) netip.AddrPort {
	a, port := k.a, k.pa
	if s == 1 {
		a, port = k.b, k.pb
	}
	addr := netip.AddrFrom16(a)
	if k.v4 {
		addr = addr.Unmap()
	}
	return netip.AddrPortFrom(addr, port)
}

// equal reports whether k and o are the same key. The compiler compares a
// struct of this many fields by calling a generated function (memequal
// over its bytes); this compiles to a few word compares, inline, for the
// numberer's lookup of every packet.
func (k *tupleKey) equal(o *tupleKey) bool {
	return k.a == o.a && k.b == o.b && k.pa == o.pa && k.pb == o.pb && k.file == o.file && k.v4 == o.v4
}

func lessAddrPort(x, y netip.AddrPort) bool {
	if xa, ya := x.Addr(), y.Addr(); xa.Is4() && ya.Is4() {
		// The common case, without Compare's zone and length checks: the
		// same order, as IPv4 addresses compare as 32-bit numbers.
		x4, y4 := xa.As4(), ya.As4()
		if xi, yi := binary.BigEndian.Uint32(x4[:]), binary.BigEndian.Uint32(y4[:]); xi != yi {
			return xi < yi
		}
		return x.Port() < y.Port()
	}
	if c := x.Addr().Compare(y.Addr()); c != 0 {
		return c < 0
	}
	return x.Port() < y.Port()
}

// entry is the tracker's record of one conversation under reassembly, from
// its first packet until its connection is finalised. A later packet of the
// conversation finds no entry and, not being fresh (the numberer still
// knows the conversation), is recognised as late.
type entry struct {
	key      tupleKey
	stream   int    // Wireshark tcp.stream
	conv     int    // run-wide conversation number: the connection ID
	slot     uint32 // the conversation's slot in the numberer
	lastSeen time.Time

	// live is the connection under analysis, nil once it was finalised.
	live *connState

	// list links for the tracker's LRU list of live connections.
	prev, next *entry
	list       *entryList
}

// entryList is an intrusive doubly linked list ordered by last activity,
// oldest first, so idle entries are found in O(1).
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

// tracker keeps the table of conversations under reassembly; the numberer
// (numbering.go) has decided which conversation each packet belongs to. It
// is not safe for concurrent use.
//
// A packet that starts a conversation looks up its 4-tuple in table (an
// earlier conversation on the tuple is replaced). Every other packet finds
// its entry by the numberer's slot instead, an index rather than a second
// hash of the key: a slot holds one conversation at a time, and the
// numberer reuses it only for a conversation that starts with a fresh
// packet, so bySlot[p.slot] is p's conversation unless that one was
// forgotten here. The conv check makes sure of it.
type tracker struct {
	table  map[tupleKey]*entry
	bySlot []*entry              // by numberer slot; nil once forgotten
	active entryList             // entries with a live connection, LRU order
	free   freelist.List[*entry] // entries of recycled connections (recycle.go)
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
	if p.fresh {
		if old := t.table[p.key]; old != nil {
			replaced = old
			t.unlink(old)
		}
		e = t.newEntry()
		e.key, e.stream, e.conv, e.slot = p.key, p.stream, p.conv, p.slot
		t.table[p.key] = e
		if int(p.slot) >= len(t.bySlot) {
			t.bySlot = append(t.bySlot, make([]*entry, int(p.slot)+1-len(t.bySlot))...)
		}
		t.bySlot[p.slot] = e
	} else {
		if int(p.slot) < len(t.bySlot) {
			e = t.bySlot[p.slot]
		}
		if e == nil || e.conv != p.conv {
			return nil, nil
		}
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

// forget drops e once its connection was finalised. The finalised
// connState keeps e until connState.reset recycles the connection and
// hands e back, zero, through freeEntry; beyond the bound of the retired
// connections' free list, both are left to the garbage collector.
func (t *tracker) forget(e *entry) {
	t.unlink(e)
	if t.table[e.key] == e {
		delete(t.table, e.key)
	}
	if int(e.slot) < len(t.bySlot) && t.bySlot[e.slot] == e {
		t.bySlot[e.slot] = nil
	}
}

// newEntry returns a zero entry, a recycled one when there is one.
func (t *tracker) newEntry() *entry {
	if e, ok := t.free.Get(); ok {
		return e
	}
	return new(entry)
}

// freeEntry takes back e, zero, forgotten and no longer in use.
func (t *tracker) freeEntry(e *entry) { t.free.Put(e, maxFree) }

func (t *tracker) unlink(e *entry) {
	if e.list != nil {
		e.list.remove(e)
	}
}

// oldestActive returns the least recently seen entry with a live
// connection, or nil.
func (t *tracker) oldestActive() *entry { return t.active.head }
