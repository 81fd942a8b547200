package reassembly

import "time"

// A batch carries packets from the dispatcher to a worker (shard.go) as
// records without a pointer, the segments' bytes packed in one buffer.
// Copying a whole Packet (some 400 bytes, with a score of pointers in its
// TCP layer, addresses and times) into a batch cost the dispatcher a write
// barrier per pointer while the garbage collector runs; a record is a
// plain copy, and the worker rebuilds the Packet from it: the TCP layer by
// decoding the header again from the batch's copy of it, the addresses
// from the tuple key.
//
// What does not fit a record travels whole, in the batch's odd list: a
// time that does not round-trip through Unix seconds and nanoseconds (not
// UTC, or with a monotonic reading), a TCP layer whose Contents are not
// its decoded header (a Packet built by hand), a segment larger than the
// batch buffer, addresses the tuple key does not give back, a frame
// number, file, stream, conversation or missing-byte count beyond 32 bits.

// recKind says what a batchRec holds.
type recKind uint8

const (
	recPacket recKind = iota // a packet, its segment at buf[off:off+n]
	recTick                  // a clock tick at the record's now
	recOdd                   // a whole Packet (or tick) in odd[off]
)

// batchRec is one entry of a batch: 104 bytes, which the dispatcher
// writes for every packet. The frame number and the file, stream,
// conversation and missing-byte counts are 32-bit (a value that does not
// fit sends the packet to the odd list); the packet's shard hash is left
// behind, as the worker that receives it has no use for it (the rebuilt
// packet's is zero).
type batchRec struct {
	key     tupleKey
	kind    recKind
	side    uint8
	fresh   bool
	trunc   bool
	slot    uint32
	off, n  uint32 // the segment (TCP header and payload) in buf
	nsec    int32  // Time
	nowNsec int32  // now
	file    int32
	stream  int32
	conv    int32
	missing int32
	frame   int32
	sec     int64 // Time
	nowSec  int64 // now
}

// packetBatch holds the packets for a worker. The buffer is never grown
// once full: the rebuilt packets' payloads are slices of it.
type packetBatch struct {
	recs []batchRec
	buf  []byte
	odd  []Packet
}

// unixParts splits t into Unix seconds and nanoseconds, and reports
// whether time.Unix(sec, nsec).UTC() gives t back exactly.
func unixParts(t time.Time) (sec int64, nsec int32, ok bool) {
	sec, nsec = t.Unix(), int32(t.Nanosecond())
	return sec, nsec, time.Unix(sec, int64(nsec)).UTC() == t
}

// fits32 reports whether v survives a round trip through int32.
func fits32[T int | int64](v T) bool { return T(int32(v)) == v }

// keyAddrs reports whether p's addresses are those its tuple key gives
// back (tupleKey.side): of one family, without a zone, as decoded.
func keyAddrs(p *Packet) bool {
	if p.key.v4 {
		return p.Src.Is4() && p.Dst.Is4()
	}
	return p.Src.Is6() && p.Dst.Is6() && p.Src.Zone() == "" && p.Dst.Zone() == ""
}

// full reports whether the batch cannot take a segment of n bytes.
func (b *packetBatch) full(n int) bool {
	return len(b.recs) == cap(b.recs) || (len(b.buf)+n > cap(b.buf) && len(b.recs) > 0)
}

// add appends p to the batch; the caller made room (full).
func (b *packetBatch) add(p *Packet) {
	tcp := &p.TCP
	hdr, payload := tcp.Contents, tcp.Payload
	sec, nsec, ok1 := unixParts(p.Time)
	nowSec, nowNsec, ok2 := unixParts(p.now)
	n := len(hdr) + len(payload)
	if !ok1 || !ok2 || len(hdr) != int(tcp.DataOffset)*4 || len(hdr) < 20 || n > cap(b.buf)-len(b.buf) || !keyAddrs(p) ||
		!fits32(p.Frame) || !fits32(p.File) || !fits32(p.stream) || !fits32(p.conv) || !fits32(p.MissingBytes) {
		b.addOdd(p)
		return
	}
	off := len(b.buf)
	b.buf = append(append(b.buf, hdr...), payload...)
	b.recs = append(b.recs, batchRec{
		key: p.key, kind: recPacket, side: uint8(p.side), fresh: p.fresh, trunc: p.Truncated, slot: p.slot,
		off: uint32(off), n: uint32(n), nsec: nsec, nowNsec: nowNsec, sec: sec, nowSec: nowSec,
		frame: int32(p.Frame), file: int32(p.File), stream: int32(p.stream), conv: int32(p.conv), missing: int32(p.MissingBytes),
	})
}

// addOdd appends a copy of p whole, with bytes of its own (owned): nothing
// of it may point into the source's buffers, which the reader overwrites
// while the worker runs.
func (b *packetBatch) addOdd(p *Packet) {
	b.recs = append(b.recs, batchRec{kind: recOdd, off: uint32(len(b.odd))})
	b.odd = append(b.odd, p.owned())
}

// addTick appends a clock tick at now; the caller made room.
func (b *packetBatch) addTick(now time.Time) {
	sec, nsec, ok := unixParts(now)
	if !ok {
		b.recs = append(b.recs, batchRec{kind: recOdd, off: uint32(len(b.odd))})
		b.odd = append(b.odd, Packet{tick: true, now: now})
		return
	}
	b.recs = append(b.recs, batchRec{kind: recTick, nowSec: sec, nowNsec: nsec})
}

// packet rebuilds in p the packet of record r, a recPacket, as it was
// added; its payload is a slice of the batch buffer.
func (b *packetBatch) packet(r *batchRec, p *Packet) {
	seg := b.buf[r.off : r.off+r.n : r.off+r.n]
	// The header decoded before, so it cannot fail now.
	_ = p.TCP.DecodeFromBytes(seg, nilDF)
	p.File, p.Frame = int(r.file), int64(r.frame)
	p.Time = time.Unix(r.sec, int64(r.nsec)).UTC()
	p.now = time.Unix(r.nowSec, int64(r.nowNsec)).UTC()
	p.Src, p.Dst = r.key.side(int(r.side)).Addr(), r.key.side(1-int(r.side)).Addr()
	p.Truncated, p.MissingBytes = r.trunc, int(r.missing)
	p.key, p.side, p.stream, p.conv, p.fresh = r.key, int(r.side), int(r.stream), int(r.conv), r.fresh
	p.shard, p.slot, p.tick = 0, r.slot, false
}

// reset empties the batch for reuse, dropping the odd packets' references.
func (b *packetBatch) reset() {
	clear(b.odd)
	b.recs, b.buf, b.odd = b.recs[:0], b.buf[:0], b.odd[:0]
}
