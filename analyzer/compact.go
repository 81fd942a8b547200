package analyzer

import (
	"encoding/binary"
	"iter"
)

// Compact encodings of the records a closed connection keeps per request
// (reqRec) and per exchange (exchRec). Each record is encoded against the
// previous one of its connection, as varints: frames and times grow slowly
// along a connection, so a record takes a fraction of its struct's bytes.
// Differences wrap (int64 arithmetic), so every value, noTime included,
// round-trips. A closed connection keeps its records as a string (the
// bytes, without a slice's capacity word).

// appendReq appends r encoded against prev (the connection's previous
// request, the zero reqRec for the first): its line hash's index in the
// analyzer's table of hashes (interner.hash) with the credentials bit as
// its lowest bit, then the differences of time and frame, as varints.
func appendReq(b []byte, in *internCache, r, prev reqRec) []byte {
	v := uint64(in.hash(r.lineHash())) << 1
	if r.hasAuth() {
		v |= 1
	}
	b = binary.AppendUvarint(b, v)
	b = binary.AppendVarint(b, int64(r.at-prev.at))
	return binary.AppendVarint(b, r.frame-prev.frame)
}

// eachReq yields the requests appendReq encoded in s, in order; hashes is
// the analyzer's table of line hashes.
func eachReq(s string, hashes []uint64) iter.Seq[reqRec] {
	return func(yield func(reqRec) bool) {
		rd := reqReader{s: s, hashes: hashes}
		for rd.next() {
			if !yield(rd.r) {
				return
			}
		}
	}
}

// reqReader reads the requests appendReq encoded in s, one by one.
type reqReader struct {
	s      string
	hashes []uint64
	r      reqRec // the request read last
}

// next reads the next request into r; it reports false at the end.
func (rd *reqReader) next() bool {
	if len(rd.s) == 0 {
		return false
	}
	v := uvarint(&rd.s)
	rd.r.line = rd.hashes[v>>1]
	if v&1 != 0 {
		rd.r.line |= reqAuthBit
	}
	rd.r.at += nanotime(varint(&rd.s))
	rd.r.frame += varint(&rd.s)
	return true
}

// Flags of an encoded exchange record.
const (
	exProxy    = 1 << iota // exchRec.proxy
	exAnswered             // exchRec.answered: a response time follows
	exHasHS                // exchRec.hs is set: its index in the connection's handshakes follows
)

// appendExchange appends e, encoded: a flags byte, the two auth labels in
// one byte, the line's index, then as zigzag varints the status, the
// response's frame and time against the request's (the time when
// answered), and, when e.hs is set, its index in hs (the connection's
// handshakes). The request's frame and time are not written: exchange i is
// request i, whose reqRec has them (see eachExchange).
func appendExchange(b []byte, e *exchRec, hs hsIndex) []byte {
	var flags byte
	if e.proxy {
		flags |= exProxy
	}
	if e.answered {
		flags |= exAnswered
	}
	hi := -1
	if e.hs != nil {
		hi = hs.of(e.hs)
	}
	if hi >= 0 {
		flags |= exHasHS
	}
	b = append(b, flags, byte(e.reqAuth)|byte(e.respAuth)<<4)
	b = binary.AppendUvarint(b, uint64(e.line))
	b = binary.AppendVarint(b, int64(e.status))
	b = binary.AppendVarint(b, e.respFrame-e.reqFrame)
	if e.answered {
		b = binary.AppendVarint(b, int64(e.respTime-e.reqTime))
	}
	if hi >= 0 {
		b = binary.AppendUvarint(b, uint64(hi))
	}
	return b
}

// encodeExchanges encodes the n records at returns (at(0) to at(n-1))
// against the handshakes hs, in *scratch (reused from call to call)
// before the string takes its own copy.
func encodeExchanges(n int, at func(int) *exchRec, hs []*handshake, scratch *[]byte) string {
	b := (*scratch)[:0]
	index := newHSIndex(hs)
	for i := range n {
		b = appendExchange(b, at(i), index)
	}
	*scratch = b
	return string(b)
}

// eachExchange yields the connection's exchange records, in order.
func (cs *connState) eachExchange(hashes []uint64) iter.Seq[exchRec] {
	return func(yield func(exchRec) bool) {
		s, hs := cs.ext().exchanges, cs.hs
		rd := reqReader{s: cs.reqs, hashes: hashes}
		var e exchRec
		for len(s) > 0 && rd.next() {
			flags, labels := s[0], s[1]
			s = s[2:]
			e = exchRec{
				reqAuth:  authLabelID(labels & 0x0f),
				respAuth: authLabelID(labels >> 4),
				proxy:    flags&exProxy != 0,
				answered: flags&exAnswered != 0,
				withAuth: true,
				line:     lineID(uvarint(&s)),
				reqFrame: rd.r.frame,
				reqTime:  rd.r.at,
			}
			e.status = int16(varint(&s))
			e.respFrame = e.reqFrame + varint(&s)
			if e.answered {
				e.respTime = e.reqTime + nanotime(varint(&s))
			}
			if flags&exHasHS != 0 {
				e.hs = hs[uvarint(&s)]
			}
			if !yield(e) {
				return
			}
		}
	}
}

// uvarint reads a varint (encoding/binary's) off the front of *s, which
// this file's encoders wrote: it is well formed.
func uvarint(s *string) uint64 {
	var v uint64
	for i, shift := 0, uint(0); ; i, shift = i+1, shift+7 {
		c := (*s)[i]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			*s = (*s)[i+1:]
			return v
		}
	}
}

// varint reads a zigzag varint off the front of *s (see uvarint).
func varint(s *string) int64 {
	u := uvarint(s)
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}
