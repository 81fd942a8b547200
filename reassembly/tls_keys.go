package reassembly

// The handshake messages the decryptor reads, and the keys it derives from
// them and from the key sources' secrets.

// changeCipher12 starts a new TLS 1.2 epoch in direction d.
func (t *tlsConn) changeCipher12(d Direction) {
	h := &t.half[d]
	h.protected, h.cur, h.next, h.seq, h.tried = true, nil, nil, 0, false
	t.installKeys(d)
}

// handshake handles one handshake message of direction d.
func (t *tlsConn) handshake(d Direction, typ uint8, body []byte) {
	switch typ {
	case hsClientHello:
		hello, err := parseClientHello(body)
		if err != nil {
			return
		}
		t.half[d].role, t.half[1-d].role = 0, 1
		t.clientRandom, t.haveClientHello = hello.random, true
		t.haveServerHello = false // a renegotiation starts over
		t.info.ServerName = hello.serverName
	case hsServerHello:
		hello, err := parseServerHello(body)
		if err != nil || hello.retry {
			// A HelloRetryRequest: the real ServerHello follows the
			// client's second ClientHello.
			return
		}
		t.half[d].role, t.half[1-d].role = 1, 0
		t.serverHello(hello)
	case hsEncryptedExtensions:
		if alpn, err := parseEncryptedExtensions(body); err == nil && alpn != "" {
			t.setALPN(alpn)
		}
	case hsFinished:
		t.half[d].finished = true
	case hsKeyUpdate:
		t.half[d].keyUpdate = true
	}
}

// serverHello records the negotiated parameters; in TLS 1.3 both
// directions are protected from here on (RFC 8446 §2).
func (t *tlsConn) serverHello(hello helloInfo) {
	t.serverRandom, t.haveServerHello = hello.random, true
	t.version = hello.version
	t.info.Version, t.info.CipherSuite = hello.version, hello.suite
	s := cipherSuites[hello.suite]
	switch {
	case hello.version != versionTLS12 && hello.version != versionTLS13,
		s == nil, s.tls13 != (hello.version == versionTLS13):
		t.unsupported = true
		t.suite = nil
		for d := range t.half {
			t.half[d].stopped = true
		}
		t.cs.classify()
		return
	}
	t.suite = s
	if hello.alpn != "" {
		t.setALPN(hello.alpn)
	}
	if t.version == versionTLS13 {
		for d := range t.half {
			h := &t.half[d]
			h.protected, h.app, h.cur, h.next, h.seq, h.tried = true, false, nil, nil, 0, false
			t.installKeys(Direction(d))
		}
	}
}

// setALPN records the server's application protocol. HTTP/2 is counted,
// not parsed: decryption stops.
func (t *tlsConn) setALPN(alpn string) {
	t.info.ALPN = alpn
	if alpn != "h2" || t.h2 {
		return
	}
	t.h2 = true
	t.cs.conn.Protocol = ProtoHTTP2
	t.cs.conn.Decrypted = false
	for d := range t.half {
		t.half[d].stopped = true
	}
	t.cs.classify()
}

// installKeys looks up the secrets of direction d's epoch and derives its
// keys, where missing. A miss is looked up again only when a key log has
// gained secrets since (a growing SSLKEYLOGFILE): records counted in the
// meantime keep the sequence numbers right.
func (t *tlsConn) installKeys(d Direction) {
	h := &t.half[d]
	if !h.protected || t.suite == nil || !t.haveClientHello || !t.haveServerHello {
		return
	}
	ring := t.cs.r.keys
	if h.tried && ring.gen() == h.triedGen {
		// A followed key log is asked again on each of the first records
		// that miss: a browser writes a session's secrets within
		// milliseconds of its handshake or not at all, so a session
		// still without them after maxFollowedMisses records waits for
		// another lookup to find something, as without Follow.
		if !ring.following() || h.followed >= maxFollowedMisses {
			return
		}
		h.followed++
		ring.reload() // a stat per file: did the secrets arrive?
		if ring.gen() == h.triedGen {
			return
		}
	}
	hsKind, appKind := secClientHS, secClientTraffic
	if h.role == 1 {
		hsKind, appKind = secServerHS, secServerTraffic
	}
	// complete says whether s has every secret the direction needs now:
	// a key log may hold a session's handshake secrets and not yet its
	// application ones (a client writes them as it derives them).
	complete := func(s sessionSecrets) bool {
		switch {
		case t.version != versionTLS13:
			return s[secMaster] != nil
		case h.app:
			return s[appKind] != nil
		}
		return s[hsKind] != nil && s[appKind] != nil
	}
	s, ok := ring.lookup(t.clientRandom)
	if !ok || !complete(s) {
		ring.reload()
		s, ok = ring.lookup(t.clientRandom)
	}
	h.tried, h.triedGen = true, ring.gen()
	if !ok {
		return
	}
	if t.version != versionTLS13 {
		if h.cur != nil || s[secMaster] == nil {
			return
		}
		keys, err := keys12(t.suite, s[secMaster], t.clientRandom[:], t.serverRandom[:])
		if err != nil {
			t.keyFailed = true
			return
		}
		h.cur = keys[h.role]
		return
	}
	derive := func(sec secret) *recordKeys {
		if sec == nil {
			return nil
		}
		k, err := keys13(t.suite, sec)
		if err != nil {
			t.keyFailed = true // a secret of the wrong size for the suite
		}
		return k
	}
	switch {
	case !h.app:
		if h.cur == nil {
			h.cur = derive(s[hsKind])
		}
		if h.next == nil {
			h.next = derive(s[appKind])
		}
	case h.cur == nil:
		// The application epoch, and no KeyUpdate yet (one read without
		// keys stops the direction).
		h.cur = derive(s[appKind])
	}
}
