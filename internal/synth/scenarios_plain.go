package synth

// Kinds of server work, for serverTime.
const (
	fast     = iota // a 401/407 or a Type 2: answered from memory
	validate        // a Type 3: a round trip to a domain controller
	page            // an application page
)

// serverTime returns how long the server takes to answer, ns.
func (s *script) serverTime(kind int) int64 {
	rng := s.g.rng
	switch kind {
	case fast:
		return 150_000 + int64(rng.IntN(1_200_000))
	case validate:
		return 2_000_000 + int64(rng.ExpFloat64()*8_000_000)
	}
	return 3_000_000 + int64(rng.ExpFloat64()*40_000_000)
}

// thinkTime returns a user's or application's pause between requests with
// the given mean (ns), capped at 20 s so that no connection idles out.
func (s *script) thinkTime(mean float64) int64 {
	return int64(min(s.g.rng.ExpFloat64()*mean, 20e9))
}

// pageSize returns the size of an ordinary (compressed) page: a few
// hundred bytes plus a long tail, 1.2 KB on average.
func (s *script) pageSize() int {
	return 300 + int(min(s.g.rng.ExpFloat64()*900, 40000))
}

// end closes the connection after it idled a while: by the client (a
// browser drops idle connections), or by the server (IIS's connection
// timeout) when dir says so.
func (s *script) end(dir uint8) {
	s.c.wait(int64(100_000_000 + s.g.rng.IntN(8_000_000_000)))
	s.c.close(dir, s.cl.rtt)
}

// plain is HTTP without authentication: 1 to 4 requests for static
// resources, answered 200 (sometimes 304 to a conditional GET, or 404).
// Contributes its requests and responses, nothing else.
func (s *script) plain() {
	rng := s.g.rng
	n := 1 + rng.IntN(4)
	for i := range n {
		if i > 0 {
			s.think(s.thinkTime(300e6))
		}
		rq := request{method: "GET", target: staticPaths[rng.IntN(len(staticPaths))], host: "static.corp.example"}
		rs := response{status: 200, ctype: "application/octet-stream", body: 200 + int(min(rng.ExpFloat64()*1500, 30000))}
		switch r := rng.IntN(20); {
		case r < 4:
			rq.etag, rs.status, rs.body = true, 304, 0
		case r < 5:
			rs.status, rs.ctype, rs.body = 404, "text/html", 1245
		}
		s.exchange(&rq, &rs, s.serverTime(fast))
	}
	s.end(fromClient)
}

// largeBody transfers large bodies (LargeBodyMin to LargeBodyMax bytes)
// over many segments: downloads with Content-Length or chunked, and
// uploads. Half the connections authenticate first (a successful NTLM
// handshake, so each transfer is an authenticated request), half are
// plain HTTP. Contributes 1 or 2 transfers, and for the authenticated
// half 1 handshake, succeeded, 1 offer, 1 challenge and 1 user.
func (s *script) largeBody() {
	g, rng := s.g, s.g.rng
	st := webSite(wrapNTLM)
	if rng.IntN(2) == 0 {
		s.handshake(st, true, rng.IntN(g.w.backends))
	}
	n := 1 + rng.IntN(2)
	for range n {
		s.think(s.thinkTime(500e6))
		size := g.cfg.LargeBodyMin + rng.IntN(g.cfg.LargeBodyMax-g.cfg.LargeBodyMin+1)
		rq := request{method: "GET", target: "/sites/finance/Shared%20Documents/report.xlsx", host: st.host}
		rs := response{status: 200, ctype: "application/octet-stream", body: size}
		switch r := rng.IntN(10); {
		case r < 3:
			rs.chunked = true
		case r < 5:
			rq.method, rq.target, rq.body, rq.ctype = "POST", "/sites/finance/_vti_bin/upload.ashx", size, "application/octet-stream"
			rs.status, rs.body = 201, 120
		}
		s.exchange(&rq, &rs, s.serverTime(page))
	}
	s.end(fromClient)
}

// kerberos is Kerberos under Negotiate: the server offers Negotiate and
// NTLM (7 in 10 connections; the others send the token at once), the
// client sends a SPNEGO NegTokenInit with an AP-REQ (its mechTypes list
// NTLMSSP too), the server answers 200 with the AP-REP, and 0 to 5 more
// requests without credentials follow. Contributes 1 kerberos exchange,
// 0 or 1 offer, its requests; no handshake, no user, and the later
// requests are not authenticated requests (only NTLM counts there).
func (s *script) kerberos() {
	g, rng := s.g, s.g.rng
	st := webSite(wrapNegotiate)
	t := s.target(st)
	if rng.IntN(10) < 7 {
		s.offer(st, t)
		s.think(300_000)
	}
	g.cred = g.tok.kerberos(g.cred[:0])
	rq := request{method: "GET", target: t, host: st.host, auth: g.cred, kerberos: true}
	rs := response{status: 200, token: g.tok.krbRep, persist: true, body: s.pageSize()}
	s.exchange(&rq, &rs, s.serverTime(validate))
	for range rng.IntN(6) {
		s.think(s.thinkTime(900e6))
		s.page(st)
	}
	s.end(fromClient)
}
