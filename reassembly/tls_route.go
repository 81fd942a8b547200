package reassembly

// Routing between TCP reassembly and the TLS decryptor: the connState
// hooks (parse, tlsGap, tlsEnd, tlsFinish, tlsLive) called from stream.go
// and fastpath.go, and the choice, per direction, between the decryptor
// and the HTTP parser.

// parse hands in-order bytes of direction d to its HTTP parser p, or to
// the TLS decryptor when the direction carries TLS and a key source exists.
func (cs *connState) parse(p *HTTPParser, d Direction, data []byte, seg Segment) {
	taken := len(cs.r.keys) > 0 && cs.tlsTake(d, data, seg)
	if len(data) > 0 {
		cs.tunnelFresh = false // the tunnel's first bytes decided
	}
	if !taken {
		// The bytes as the wire carried them: TCP's numbers apply
		// (cs.wire, set by the in-order path for its own packet).
		p.wire = cs.wire
		p.Feed(data, seg)
		p.wire = wireNums{}
	}
}

// tlsTake routes data to the decryptor, and reports whether it did. A
// connection is followed when its first bytes, in either direction, may
// be a TLS record and a key source can supply secrets (now, or later as a
// key log grows); each direction then goes to the decryptor if its own
// first bytes are a TLS record header, to the HTTP parser if not. The
// first bytes of a CONNECT tunnel count as a connection's (tunnelFresh):
// TLS through a proxy is decrypted as TLS straight to the server is.
func (cs *connState) tlsTake(d Direction, data []byte, seg Segment) bool {
	t := cs.tls
	if t == nil {
		if len(data) == 0 || data[0] < ctChangeCipherSpec || data[0] > ctApplicationData ||
			(cs.parsedAny() && !cs.tunnelFresh) || !cs.r.keys.active() {
			return false
		}
		t = &tlsConn{cs: cs}
		t.half[0].role, t.half[1].role = 0, 1
		cs.tls = t
	}
	h := &t.half[d]
	switch h.mode {
	case tlsPlain:
		return false
	case tlsUndecided:
		if len(h.sniff)+len(data) < 3 {
			h.sniff, h.sniffSeg = append(h.sniff, data...), seg
			return true
		}
		head := append(h.sniff[:len(h.sniff):len(h.sniff)], data[:3-len(h.sniff)]...)
		if !looksTLS(head) {
			t.plain(d)
			return false
		}
		h.mode = tlsRecords
		t.confirm()
		if len(h.sniff) > 0 {
			t.feed(d, h.sniff, h.sniffSeg)
			h.sniff = nil
		}
	}
	t.feed(d, data, seg)
	return true
}

// plain hands direction d to the HTTP parser, with the bytes sniffed.
func (t *tlsConn) plain(d Direction) {
	h := &t.half[d]
	h.mode = tlsPlain
	if len(h.sniff) > 0 {
		t.cs.parser(d).Feed(h.sniff, h.sniffSeg)
		h.sniff = nil
	}
}

// confirm marks the connection as TLS, followed by the decryptor.
func (t *tlsConn) confirm() {
	if t.confirmed {
		return
	}
	t.confirmed = true
	t.cs.conn.TLS = &t.info
	if t.cs.tunnel {
		t.cs.conn.Tunnel = ProtoTLS
	}
	if t.cs.conn.Protocol == ProtoUnknown {
		t.cs.conn.Protocol = ProtoTLS
	}
}

// looksTLS reports whether a direction's first three bytes are a TLS
// record header's, by the test the HTTP parser classifies ProtoTLS with.
func looksTLS(head []byte) bool {
	proto, _ := sniffProto(head[:3])
	return proto == ProtoTLS
}

// parsedAny reports whether an HTTP parser of the connection has read
// bytes: the connection was found not to start with TLS.
func (cs *connState) parsedAny() bool {
	for _, p := range cs.parsers {
		if p != nil && p.offset > 0 {
			return true
		}
	}
	return false
}

// tlsLive reports whether the decryptor still wants the connection's
// bytes: a direction carries TLS it has not given up on.
func (cs *connState) tlsLive() bool {
	t := cs.tls
	if t == nil || t.h2 {
		return false
	}
	for i := range t.half {
		if h := &t.half[i]; h.mode == tlsUndecided || h.mode == tlsRecords && !h.stopped {
			return true
		}
	}
	return false
}

// tlsGap handles missing bytes of direction d, and reports whether the
// direction is the decryptor's (the HTTP parser is then told by it).
func (cs *connState) tlsGap(d Direction, seg Segment, missing int) bool {
	t := cs.tls
	if t == nil {
		return false
	}
	h := &t.half[d]
	switch h.mode {
	case tlsPlain:
		return false
	case tlsUndecided:
		if len(h.sniff) > 0 || !t.confirmed {
			t.plain(d)
			return false
		}
		// The other direction is TLS and this one's first bytes are lost:
		// its records cannot be framed.
		h.mode = tlsRecords
		t.stop(d, seg)
		return true
	}
	if h.stopped {
		return true
	}
	if !h.rec.gap(missing) {
		// Record framing, and with it the sequence numbers, are lost.
		t.stop(d, seg)
	}
	return true
}

// tlsEnd notes the end of direction d's stream: a record cut off by it is
// counted.
func (cs *connState) tlsEnd(d Direction) {
	t := cs.tls
	if t == nil || t.half[d].ended {
		return
	}
	h := &t.half[d]
	h.ended = true
	if h.mode == tlsUndecided && len(h.sniff) > 0 {
		t.plain(d) // never enough bytes to tell
	}
	if h.mode == tlsRecords && !h.stopped && h.rec.pending() {
		t.info.TruncatedRecords++
	}
}

// tlsFinish settles the connection's TLS outcome when it closes.
func (cs *connState) tlsFinish() {
	t := cs.tls
	if t == nil {
		return
	}
	for d := range t.half {
		cs.tlsEnd(Direction(d)) // the capture or the connection's tracking ended
		t.half[d].rec.close()
	}
	if !t.confirmed {
		return
	}
	if cs.conn.Decrypted && cs.conn.Protocol == ProtoTLS {
		// Decrypted, but no HTTP/1.x came out: say what the plaintext was,
		// so that ProtoTLS always means "not seen inside".
		cs.conn.Protocol = ProtoUnknown
		for _, p := range cs.parsers {
			if p != nil && p.Protocol() != ProtoUnknown {
				cs.conn.Protocol = p.Protocol()
			}
		}
	}
	switch {
	case cs.conn.Decrypted:
		t.info.Outcome = TLSDecrypted
	case t.h2:
		t.info.Outcome = TLSHTTP2
	case t.unsupported:
		t.info.Outcome = TLSUnsupported
	case t.keyFailed:
		t.info.Outcome = TLSBadKeys
	case !t.haveClientHello:
		t.info.Outcome = TLSNoHandshake
	default:
		t.info.Outcome = TLSNoKeys
	}
}
