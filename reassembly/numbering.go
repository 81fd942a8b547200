package reassembly

import (
	"math"
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
//
// Files that follow each other (Packet.Chain) are one capture: a
// conversation goes on from one into the next, as the connection does,
// and takes a tcp.stream index in the new file at its first packet there,
// as Wireshark numbers it when it opens that file.
type numberer struct {
	// index finds a conversation's entry in slab by 4-tuple; free lists
	// the unused slots of slab. Nothing here but slab's chunk pointers
	// holds a pointer: the garbage collector never scans the entries,
	// however many conversations the numberer remembers.
	index      slotIndex
	slab       numSlab
	free       []uint32
	nextStream map[int]int // per file
	nextConv   int

	// sweepQ lists every live entry once, roughly in order of last
	// activity (see sweep).
	sweepQ  ring[sweepItem]
	retain  time.Duration
	now     time.Time // latest capture time seen
	horizon int64     // entries last seen before this (ns) are forgotten
	next    time.Time // the next sweep
}

// numEntry is the numberer's record of one conversation.
type numEntry struct {
	key     tupleKey
	hash    uint32 // the key's hash in index (filling the key's padding)
	stream  int32  // tcp.stream in file
	file    int32  // the file of the conversation's latest packet
	conv    int64
	base    [2]uint32 // per tuple side (a=0, b=1)
	hasBase [2]bool
	gen     uint32 // counts the slot's reuses, to spot stale queue items
	// shard is the tuple's fixed hash (tupleKey.hash), computed once per
	// conversation: it picks the worker of a sharded run.
	shard    uint64
	lastSeen int64 // capture time, ns since the Unix epoch
}

// sweepItem is an entry in the sweep queue: its slot and generation, and
// its last activity when queued.
type sweepItem struct {
	slot, gen uint32
	at        int64
}

func newNumberer(retain time.Duration) *numberer {
	return &numberer{index: newSlotIndex(), nextStream: map[int]int{}, retain: retain, horizon: math.MinInt64}
}

// assign stamps p with its conversation (p.stream, p.conv, p.fresh when p
// starts one), its tuple key and side, and the capture clock (p.now: the
// latest time seen so far, which drives every time-based decision
// downstream).
func (n *numberer) assign(p *Packet) {
	if p.Time.After(n.now) {
		n.now = p.Time
	}
	if !n.now.Before(n.next) {
		n.sweep()
	}
	src := netip.AddrPortFrom(p.Src, uint16(p.TCP.SrcPort))
	dst := netip.AddrPortFrom(p.Dst, uint16(p.TCP.DstPort))
	k, srcIsA := makeTupleKey(p.Chain, src, dst)
	side := 1
	if srcIsA {
		side = 0
	}
	tcp := &p.TCP
	at := p.Time.UnixNano()
	var e *numEntry
	h := n.index.hash(&k)
	slot, ok := n.index.find(h, &k, &n.slab)
	if ok {
		e = n.slab.at(slot)
		if e.lastSeen < n.horizon || (tcp.SYN && !tcp.ACK && e.hasBase[side] && tcp.Seq != e.base[side]) {
			// Forgotten (a sweep is due), or a new SYN reusing the 4-tuple.
			n.release(slot)
			e = nil
		}
	}
	fresh := e == nil
	if fresh {
		slot = n.alloc(k, h, p.File, at)
		e = n.slab.at(slot)
	}
	if !e.hasBase[side] {
		e.base[side], e.hasBase[side] = baseSeq(tcp), true
	}
	if int(e.file) != p.File {
		// The conversation goes on in the next file of a chain.
		e.file, e.stream = int32(p.File), int32(n.nextStream[p.File])
		n.nextStream[p.File]++
	}
	e.lastSeen = at
	p.key, p.side, p.stream, p.conv, p.fresh, p.now = k, side, int(e.stream), int(e.conv), fresh, n.now
	p.shard, p.slot = e.shard, slot
}

// alloc records a new conversation on k, whose hash in index is h, and
// returns its slot.
func (n *numberer) alloc(k tupleKey, h uint32, file int, at int64) uint32 {
	var slot uint32
	if m := len(n.free); m > 0 {
		slot, n.free = n.free[m-1], n.free[:m-1]
	} else {
		slot = n.slab.grow()
	}
	e := n.slab.at(slot)
	*e = numEntry{key: k, file: int32(file), stream: int32(n.nextStream[file]), conv: int64(n.nextConv), gen: e.gen + 1, shard: k.hash(), hash: h}
	n.nextStream[file]++
	n.nextConv++
	n.index.insert(h, slot)
	n.sweepQ.push(sweepItem{slot: slot, gen: e.gen, at: at})
	return slot
}

// release forgets the conversation in slot.
func (n *numberer) release(slot uint32) {
	e := n.slab.at(slot)
	n.index.remove(e.hash, slot)
	e.gen++ // queue items for the slot are stale now
	n.free = append(n.free, slot)
}

// numSlab holds the numberer's entries in chunks of fixed size, which stay
// where they are as the slab grows: a slice grown by append would copy
// every entry at each growth (by a quarter, once large), some five times
// the final size in all for a capture's hundreds of thousands of
// conversations.
type numSlab struct {
	chunks []*[numChunk]numEntry
	n      uint32 // slots handed out
}

// numChunk is the entries per chunk (a power of two): 4096 of 96 bytes.
const (
	numChunkShift = 12
	numChunk      = 1 << numChunkShift
)

// at returns the entry of slot, which grow handed out.
func (s *numSlab) at(slot uint32) *numEntry {
	return &s.chunks[slot>>numChunkShift][slot&(numChunk-1)]
}

// grow hands out a new slot, its entry zero.
func (s *numSlab) grow() uint32 {
	slot := s.n
	if int(slot>>numChunkShift) == len(s.chunks) {
		s.chunks = append(s.chunks, new([numChunk]numEntry))
	}
	s.n++
	return slot
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
// a sharded run sweeps at the same instants. An entry is forgotten exactly
// when its last activity is before the horizon (assign checks that too);
// the queue only bounds memory: items are popped while they were queued
// before the horizon, and an entry still active goes back to the end.
func (n *numberer) sweep() {
	at := clockTick(n.now)
	n.next = at.Add(time.Second)
	n.horizon = at.Add(-n.retain).UnixNano()
	for n.sweepQ.len() > 0 {
		it := n.sweepQ.front()
		if it.at >= n.horizon {
			break
		}
		n.sweepQ.pop()
		e := n.slab.at(it.slot)
		switch {
		case e.gen != it.gen:
			// Released already (replaced by a new SYN, or found expired).
		case e.lastSeen < n.horizon:
			n.release(it.slot)
		default:
			n.sweepQ.push(sweepItem{slot: it.slot, gen: it.gen, at: e.lastSeen})
		}
	}
}

// clockTick is the whole second of capture time at or before t: the
// instant periodic work (flushes, sweeps) is computed for, the same in
// every shard whichever packet triggers it.
func clockTick(t time.Time) time.Time { return t.Truncate(time.Second) }
