package reassembly

// The TLS decryptor sits between TCP reassembly and the HTTP parsers.
// When a key source exists (Options.KeyLog, or secrets embedded in the
// capture) and a connection's first bytes are a TLS record, each direction
// whose own first bytes are TLS is routed through a tlsHalf: records are
// framed, the handshake read (client and server randoms, cipher suite,
// version, ALPN), keys looked up by client random and derived, and the
// application data decrypted and fed to the direction's HTTP parser, each
// plaintext attributed to the segment that completed its record (the frame
// Wireshark shows decrypted data in).
//
// Calls come from the connection's glue in stream order per direction
// (feed, gap, end), like an HTTPParser's. Memory per direction: a partial
// record while one is split across segments (at most 18 KiB, pooled) and a
// partial handshake message of interest (at most 64 KiB, only during the
// handshake); plaintext is decrypted into one buffer per Reassembler and
// fed to the parser at once.

// tlsDirMode is what one direction carries, for routing.
type tlsDirMode uint8

const (
	tlsUndecided tlsDirMode = iota // no bytes yet
	tlsRecords                     // TLS records: through the decryptor
	tlsPlain                       // not TLS: straight to the HTTP parser
)

// maxEarlyRecords bounds the client records of a TLS 1.3 handshake epoch
// that may fail before the first one decrypts: 0-RTT records, protected
// with the early secret the key log does not give, come first.
const maxEarlyRecords = 16

// maxFollowedMisses bounds the records of a direction that make a
// followed key log (KeyLog.Follow) check its files.
const maxFollowedMisses = 64

// maxAppEpochSkip bounds the TLS 1.3 application records that may have gone
// by undecrypted before the first one that decrypts (a server's session
// tickets come first).
const maxAppEpochSkip = 8

// tlsHalf is the decryptor's state for one direction.
type tlsHalf struct {
	mode tlsDirMode
	// sniff holds the first bytes while fewer than a record header's
	// first three arrived (sniffSeg: where they were captured).
	sniff    []byte
	sniffSeg Segment
	rec      recordReader
	hs       handshakeReader
	// role is whose write keys protect the records: 0 the client's, 1 the
	// server's. The hellos say which; until then it is the direction's.
	role int
	// protected: a cipher change was seen, records are protected.
	protected bool
	// app: TLS 1.3 application epoch (after the Finished).
	app bool
	// cur protects the current epoch; next is the TLS 1.3 application
	// keys while in the handshake epoch, tried when cur fails (the
	// Finished may have been in a record not decrypted).
	cur, next *recordKeys
	seq       uint64 // records of the current epoch so far
	// Key changes announced by the record being processed, applied after
	// it.
	finished, keyUpdate, rekey12 bool
	// followed counts the misses that made a followed key log check its
	// files (installKeys).
	followed uint8
	// tried/triedGen: keys were looked up at that key ring generation.
	tried    bool
	triedGen uint64
	// hsDesync: handshake bytes were lost in the TLS 1.3 handshake epoch,
	// so its messages are no longer read (the Finished is found by trying
	// the application keys).
	hsDesync bool
	early    int  // failures tolerated as 0-RTT records
	ok       bool // a record decrypted
	stopped  bool
	ended    bool // the stream ended (truncation counted)
	// Plaintext lost since the last delivered: its size when known.
	lost        bool
	lostBytes   int
	lostUnknown bool
}

// tlsConn is the decryptor of one connection.
type tlsConn struct {
	cs   *connState
	half [2]tlsHalf // by Direction

	clientRandom, serverRandom       [32]byte
	haveClientHello, haveServerHello bool
	version                          uint16
	suite                            *cipherSuite
	unsupported, keyFailed, h2       bool
	// confirmed: a direction was found to carry TLS (the Conn says so).
	confirmed bool
	info      TLSInfo
}

// feed frames direction d's bytes into records.
func (t *tlsConn) feed(d Direction, data []byte, seg Segment) {
	h := &t.half[d]
	if h.stopped {
		return
	}
	if p := t.cs.parsers[d]; p != nil && p.Done() {
		return // the plaintext is wanted no more (HTTP/2, a tunnel, not HTTP)
	}
	err := h.rec.feed(data, seg,
		func(rec *tlsRecord) { t.record(d, rec) },
		func(typ uint8, length int, seg Segment) { t.damaged(d, typ, length, seg) })
	if err != nil && !h.stopped {
		t.stop(d, seg)
	}
}

// record handles one whole record of direction d.
func (t *tlsConn) record(d Direction, rec *tlsRecord) {
	h := &t.half[d]
	if h.stopped {
		return
	}
	if !h.protected || t.version == versionTLS13 && rec.typ != ctApplicationData {
		// TLS 1.3 protects everything as application_data; other types
		// are the compatibility change_cipher_spec and alerts sent before
		// keys were agreed (RFC 8446 §5).
		t.plainRecord(d, rec)
		return
	}
	t.protectedRecord(d, rec)
}

// plainRecord handles an unprotected record.
func (t *tlsConn) plainRecord(d Direction, rec *tlsRecord) {
	h := &t.half[d]
	switch rec.typ {
	case ctHandshake:
		h.hs.feed(rec.body, func(typ uint8, body []byte) { t.handshake(d, typ, body) })
	case ctChangeCipherSpec:
		if t.version != versionTLS13 {
			// RFC 5246 §7.1: the records after it are protected with the
			// pending keys (TLS 1.3's is only for middleboxes).
			t.changeCipher12(d)
		}
	case ctApplicationData:
		// Protected data with no cipher change seen: the handshake was not
		// captured, or 0-RTT data before the ServerHello.
		t.info.Records[d]++
		t.lose(d, -1)
	}
}

// protectedRecord decrypts a protected record and hands on its content.
func (t *tlsConn) protectedRecord(d Direction, rec *tlsRecord) {
	h := &t.half[d]
	t.info.Records[d]++
	if h.cur == nil || t.version == versionTLS13 && !h.app && h.next == nil {
		t.installKeys(d)
	}
	seq := h.seq
	h.seq++
	if h.cur == nil && h.next == nil {
		t.loseRecord(d, rec.typ, len(rec.body), false)
		return
	}
	var plain []byte
	var typ uint8
	err := errDecrypt
	buf := t.cs.r.tlsPlain
	if h.cur != nil {
		plain, typ, err = h.cur.open(buf, seq, rec.hdr, rec.body)
	}
	if err != nil && h.next != nil {
		// The application epoch began: its Finished was in a record not
		// decrypted. Its first records may have gone by undecrypted too
		// (a live capture whose key log got the secrets late): the record
		// is tried as each of the epoch's first few.
		for aseq := uint64(0); aseq <= min(seq, maxAppEpochSkip); aseq++ {
			if p, ty, err2 := h.next.open(buf, aseq, rec.hdr, rec.body); err2 == nil {
				h.cur, h.next, h.app, h.seq, h.hsDesync = h.next, nil, true, aseq+1, false
				plain, typ, err = p, ty, nil
				break
			}
		}
	}
	if err != nil {
		switch {
		case h.cur == nil:
			// Only the next epoch's keys were tried: a record of an epoch
			// whose secret the key log lacks.
			t.loseRecord(d, rec.typ, len(rec.body), false)
		case t.version == versionTLS13 && !h.app && h.next == nil && t.cs.r.keys.following():
			// A followed key log holds the handshake secret but not yet
			// the application one, whose first records these may be:
			// lose them and go on (installKeys looks again; the records
			// after are tried as the epoch's first few).
			t.loseRecord(d, rec.typ, len(rec.body), false)
		case t.version == versionTLS13 && h.role == 0 && !h.app && !h.ok && h.early < maxEarlyRecords:
			// Likely 0-RTT data, which has its own sequence numbers.
			h.early++
			h.seq--
			t.loseRecord(d, rec.typ, len(rec.body), true)
		default:
			t.info.FailedRecords[d]++
			t.keyFailed = true
			t.stop(d, rec.seg)
		}
		return
	}
	t.cs.r.tlsPlain = plain[:0] // keep the grown buffer
	h.ok = true
	t.info.DecryptedRecords[d]++
	if !t.cs.conn.Decrypted {
		t.cs.conn.Decrypted = true
		t.info.Outcome = TLSDecrypted
	}
	switch typ {
	case ctApplicationData:
		t.deliver(d, plain, rec.seg)
	case ctHandshake:
		if !h.hsDesync {
			h.hs.feed(plain, func(typ uint8, body []byte) { t.handshake(d, typ, body) })
		}
	case ctChangeCipherSpec:
		h.rekey12 = t.version != versionTLS13 // renegotiation
	}
	t.afterRecord(d)
}

// afterRecord applies the key changes the record announced: they protect
// the records after it (RFC 8446 §4.4.4, §4.6.3; RFC 5246 §7.1).
func (t *tlsConn) afterRecord(d Direction) {
	h := &t.half[d]
	switch {
	case h.finished:
		h.finished = false
		if t.version == versionTLS13 && !h.app {
			h.cur, h.next, h.app, h.seq, h.tried = h.next, nil, true, 0, false
		}
	case h.keyUpdate:
		h.keyUpdate = false
		if t.version == versionTLS13 && h.app {
			var err error
			if h.cur != nil {
				h.cur, err = updateKeys13(h.cur)
			}
			h.seq = 0
			if h.cur == nil || err != nil {
				// The updated secret cannot be derived without the old one.
				t.stop(d, Segment{})
			}
		}
	case h.rekey12:
		h.rekey12 = false
		t.changeCipher12(d)
	}
}
