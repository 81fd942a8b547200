package reassembly

// What comes out of the decryptor: plaintext for the HTTP parser, and the
// accounting of what could not be decrypted.

// deliver feeds decrypted application data to direction d's HTTP parser,
// after telling it of plaintext lost since the last delivery.
func (t *tlsConn) deliver(d Direction, plain []byte, seg Segment) {
	h := &t.half[d]
	p := t.cs.parser(d)
	if p.Done() {
		return
	}
	if h.lost {
		missing := h.lostBytes
		if h.lostUnknown {
			missing = -1
		}
		h.lost, h.lostBytes, h.lostUnknown = false, 0, false
		p.Gap(seg, missing)
	}
	if len(plain) == 0 {
		return
	}
	p.Feed(plain, seg)
	if p.Done() || p.Protocol() != ProtoUnknown {
		t.cs.classify()
	}
}

// loseRecord counts a protected record not decrypted. early says it is
// taken for 0-RTT data, which carries no handshake messages.
func (t *tlsConn) loseRecord(d Direction, typ uint8, length int, early bool) {
	h := &t.half[d]
	if t.version == versionTLS13 && !h.app {
		// Handshake messages may be lost with it: the next handshake
		// record may start inside one.
		h.hsDesync = h.hsDesync || !early
	} else {
		h.hs.reset()
	}
	switch {
	case t.version == versionTLS13 || typ == ctApplicationData && t.suite == nil:
		t.lose(d, -1) // TLS 1.3: the content type is inside
	case typ == ctApplicationData:
		n := length - aeadTagLen
		if t.suite.aead == aeadAESGCM {
			n -= 8 // the explicit nonce
		}
		t.lose(d, max(n, 0))
	default:
		t.info.LostRecords[d]++
	}
}

// lose counts a record whose plaintext (n bytes, -1 unknown) is lost.
func (t *tlsConn) lose(d Direction, n int) {
	h := &t.half[d]
	t.info.LostRecords[d]++
	h.lost = true
	if n < 0 {
		h.lostUnknown = true
	} else {
		h.lostBytes += n
	}
}

// damaged handles a record a gap cut into: it is lost, but it still
// counts for the sequence numbers.
func (t *tlsConn) damaged(d Direction, typ uint8, length int, seg Segment) {
	h := &t.half[d]
	if h.stopped {
		return
	}
	if !h.protected || t.version == versionTLS13 && typ != ctApplicationData {
		// An unprotected record: a handshake message lost with it.
		h.hs.reset()
		return
	}
	t.info.Records[d]++
	h.seq++
	t.loseRecord(d, typ, length, false)
}

// stop gives up decrypting direction d: its plaintext after seg is lost.
func (t *tlsConn) stop(d Direction, seg Segment) {
	h := &t.half[d]
	if h.stopped {
		return
	}
	h.stopped = true
	t.info.Stopped[d] = true
	if p := t.cs.parsers[d]; p != nil && !p.Done() && h.ok {
		p.Gap(seg, -1)
	}
	t.cs.classify()
}
