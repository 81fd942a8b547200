package synth

// The NTLM scenarios. Each runs on one client-leg connection to the web
// virtual IP (or to the proxy), opened with SYN and closed with FIN after
// the last response, and every Type 3 follows its Type 2 on the same
// connection. Besides what exchange counts per message (requests,
// responses, offers, challenges, authenticated requests), ntlmStart counts
// a handshake per Type 1 and ntlmFinish the outcome per Type 3; gen.start
// counts the connection in connections and ntlm_connections.

// site says where a connection's requests go.
type site struct {
	proxy bool // NTLM proxy: 407, Proxy-Authenticate, Proxy-Authorization
	wrap  int  // wrapNTLM or wrapNegotiate
	host  string
}

func webSite(wrap int) *site { return &site{wrap: wrap, host: webHost} }

// target returns a request target for a page of the site.
func (s *script) target(st *site) string {
	rng := s.g.rng
	if st.proxy {
		return "http://" + proxyHosts[rng.IntN(len(proxyHosts))] + pagePaths[rng.IntN(len(pagePaths))]
	}
	return pagePaths[rng.IntN(len(pagePaths))]
}

// authStatus is the status that asks for credentials on the site.
func (st *site) authStatus() int {
	if st.proxy {
		return 407
	}
	return 401
}

// offers returns what the site offers in a bare 401/407.
func (st *site) offers() []string {
	if st.wrap == wrapNegotiate && !st.proxy {
		return offerNegotiate
	}
	return offerNTLM
}

// offer scripts a request without credentials answered with a bare offer:
// requests, responses and auth_offers += 1.
func (s *script) offer(st *site, target string) {
	rq := request{method: "GET", target: target, host: st.host, proxy: st.proxy}
	rs := response{status: st.authStatus(), proxy: st.proxy, offers: st.offers(), kind: bareOffer}
	s.exchange(&rq, &rs, s.serverTime(fast))
}

// ntlmStart scripts a Type 1 answered with a Type 2 of server identity id:
// requests, responses, handshakes and auth_challenges += 1.
func (s *script) ntlmStart(st *site, target string, id int) {
	g := s.g
	g.cred = g.tok.type1(g.cred[:0], st.wrap)
	g.chal = g.tok.type2(g.chal[:0], id, st.wrap)
	rq := request{method: "GET", target: target, host: st.host, proxy: st.proxy, auth: g.cred}
	rs := response{status: st.authStatus(), proxy: st.proxy, token: g.chal, kind: challenge}
	s.exchange(&rq, &rs, s.serverTime(fast))
	s.ntlm = true
	g.exp.Summary.Handshakes++
}

// ntlmFinish scripts the client's Type 3 answering identity id, after the
// client's round trip. When ok, the server that issued the challenge
// accepts it: 200 with the page (handshakes_succeeded += 1, and the
// connection is authenticated). Otherwise it is answered 401/407 with a
// bare offer, as IIS and Squid answer a Type 3 they reject or a backend
// that never issued the challenge answers it: handshakes_failed and
// auth_offers += 1. Either way requests and responses += 1 and the user
// counts among the users. A failure counts under cause in the expected
// causes.
func (s *script) ntlmFinish(st *site, target string, id int, ok bool, cause string) {
	g := s.g
	s.think(200_000)
	g.cred = g.tok.type3(g.cred[:0], s.ci, id, st.wrap)
	rq := request{method: "GET", target: target, host: st.host, proxy: st.proxy, auth: g.cred}
	rs := response{status: 200, proxy: st.proxy, body: s.pageSize()}
	switch {
	case !ok:
		rs = response{status: st.authStatus(), proxy: st.proxy, offers: st.offers(), kind: bareOffer}
	case st.proxy:
	case st.wrap == wrapNegotiate:
		rs.token, rs.persist = g.tok.negDone, true
	default:
		rs.persist = true
	}
	s.exchange(&rq, &rs, s.serverTime(validate))
	g.seeUser(s.cl.user)
	if ok {
		g.exp.Summary.HandshakesSucceeded++
		s.authed = true
	} else {
		g.exp.Summary.HandshakesFailed++
		g.exp.Causes[cause]++
	}
}

// authedRequests scripts n requests without credentials, each after the
// client's think time, answered 200: on an authenticated connection each is
// an authenticated request.
func (s *script) authedRequests(st *site, n int, thinkMean float64) {
	for range n {
		s.think(s.thinkTime(thinkMean))
		s.page(st)
	}
}

// page scripts one ordinary request and its 200: a page, sometimes a form
// POST.
func (s *script) page(st *site) {
	rng := s.g.rng
	rq := request{method: "GET", target: s.target(st), host: st.host, proxy: st.proxy}
	if !st.proxy && rng.IntN(10) == 0 {
		rq.method, rq.body = "POST", 200+rng.IntN(1800)
	}
	rs := response{status: 200, proxy: st.proxy, body: s.pageSize()}
	s.exchange(&rq, &rs, s.serverTime(page))
}

// handshake scripts a whole successful handshake on a fresh connection: an
// optional first request answered with an offer (browsers that already
// know the site start with the Type 1), then Type 1, Type 2, Type 3, 200.
func (s *script) handshake(st *site, withOffer bool, id int) {
	t := s.target(st)
	if withOffer {
		s.offer(st, t)
		s.think(300_000)
	}
	s.ntlmStart(st, t, id)
	s.ntlmFinish(st, t, id, true, "")
}

// healthy is keep-alive NTLM (or, with wrapNegotiate, Negotiate-wrapped
// NTLM): a successful handshake with a backend the balancer keeps for the
// connection, then 0 to 6 authenticated requests. Contributes: 1
// handshake, succeeded; offers 0 or 1; challenges 1; authenticated
// requests as many as follow the handshake; 1 user.
func (s *script) healthy(wrap int) {
	st := webSite(wrap)
	rng := s.g.rng
	s.handshake(st, rng.IntN(10) < 7, rng.IntN(s.g.w.backends))
	var n int
	switch r := rng.IntN(100); {
	case r < 25:
	case r < 75:
		n = 1 + rng.IntN(2)
	default:
		n = 3 + rng.IntN(4)
	}
	s.authedRequests(st, n, 900e6)
	s.end(fromClient)
}

// balancer is the client leg of a balancer that sends each request to the
// next backend: the Type 3 reaches a backend that did not issue the
// challenge and is answered 401 with a bare offer; the client restarts,
// and the retry's Type 2 comes from another backend
// (CHALLENGE_SERVER_CHANGED). After 2 or 3 attempts the last one succeeds
// (7 in 10) and serves 0 to 3 authenticated requests, or the client gives
// up and closes. Contributes per attempt 1 handshake and 1 challenge;
// every attempt but a successful last one is failed and adds an offer;
// plus the first request's offer; 1 user.
func (s *script) balancer() {
	g, rng := s.g, s.g.rng
	st := webSite(wrapNTLM)
	t := s.target(st)
	s.offer(st, t)
	s.think(300_000)
	attempts := 2 + rng.IntN(2)
	success := rng.IntN(10) < 7
	id := rng.IntN(g.w.backends)
	for i := range attempts {
		if i > 0 {
			// Another backend answers the retry's Type 1.
			id = (id + 1 + rng.IntN(g.w.backends-1)) % g.w.backends
			s.think(5_000_000)
		}
		s.ntlmStart(st, t, id)
		s.ntlmFinish(st, t, id, success && i == attempts-1, CauseBalancer)
	}
	if success {
		s.authedRequests(st, rng.IntN(4), 900e6)
	}
	s.end(fromClient)
}

// wrongPassword is a client whose Type 3 the backend that issued the
// challenge rejects: 401 with a bare offer. The user tries once more in 3
// of 10 connections (same backend, same user), then the client closes: no
// later success (these clients run no other scenario; see badPassword).
// The balancer keeps these clients on one backend (source-IP persistence),
// so that every Type 2 a client receives, on any connection, comes from the
// same identity: nothing points at the path. Contributes per attempt 1 handshake, failed, 1 challenge
// and 1 offer; plus the first request's offer; 1 user.
func (s *script) wrongPassword() {
	g, rng := s.g, s.g.rng
	st := webSite(wrapNTLM)
	t := s.target(st)
	s.offer(st, t)
	s.think(300_000)
	id := s.ci % g.w.backends
	attempts := 1
	if rng.IntN(10) < 3 {
		attempts = 2
	}
	for i := range attempts {
		if i > 0 {
			s.think(2_000_000_000 + int64(rng.IntN(4_000_000_000))) // typing the password again
		}
		s.ntlmStart(st, t, id)
		s.ntlmFinish(st, t, id, false, CauseCredentials)
	}
	s.end(fromClient)
}

// abandoned is a client that gets the Type 2 and closes the connection
// without a Type 3 (the user cancelled the prompt). Contributes 1
// handshake, abandoned; 1 offer, 1 challenge; no user.
func (s *script) abandoned() {
	rng := s.g.rng
	st := webSite(wrapNTLM)
	t := s.target(st)
	s.offer(st, t)
	s.think(300_000)
	s.ntlmStart(st, t, rng.IntN(s.g.w.backends))
	s.g.exp.Summary.HandshakesAbandoned++
	s.g.exp.Causes[CauseClient]++
	s.c.wait(int64(200_000_000 + rng.IntN(1_500_000_000)))
	s.c.close(fromClient, s.cl.rtt)
}

// proxyAuth is NTLM proxy authentication on a connection to the proxy
// port: absolute-form requests, 407 with Proxy-Authenticate, the tokens in
// Proxy-Authorization, then 1 to 6 authenticated requests for other sites.
// Contributes 1 handshake, succeeded; 1 offer, 1 challenge; 1 user.
func (s *script) proxyAuth() {
	g, rng := s.g, s.g.rng
	st := &site{proxy: true, wrap: wrapNTLM, host: proxyHosts[rng.IntN(len(proxyHosts))]}
	s.handshake(st, true, g.w.backends+rng.IntN(len(g.w.identities)-g.w.backends))
	s.authedRequests(st, 1+rng.IntN(6), 1.5e9)
	s.end(fromClient)
}

// longKeepAlive is one handshake followed by LongMin to LongMax requests
// on the same connection (Outlook or a single-page application polling):
// EWS SOAP POSTs and JSON GETs. Contributes 1 handshake, succeeded; 1
// offer, 1 challenge; every later request authenticated; 1 user.
func (s *script) longKeepAlive() {
	g, rng := s.g, s.g.rng
	wrap := wrapNTLM
	if rng.IntN(10) < 3 {
		wrap = wrapNegotiate
	}
	st := webSite(wrap)
	s.handshake(st, true, rng.IntN(g.w.backends))
	n := g.cfg.LongMin + rng.IntN(g.cfg.LongMax-g.cfg.LongMin+1)
	for range n {
		s.think(s.thinkTime(350e6))
		rq := request{method: "GET", target: "/owa/service.svc?action=GetItem", host: st.host}
		rs := response{status: 200, ctype: "application/json; charset=utf-8", body: 200 + rng.IntN(1500)}
		if rng.IntN(10) < 6 {
			rq.method, rq.target, rq.body, rq.ctype = "POST", "/ews/exchange.asmx", 300+rng.IntN(900), "text/xml; charset=utf-8"
			rs.ctype, rs.body = "text/xml; charset=utf-8", 500+rng.IntN(2500)
		}
		s.exchange(&rq, &rs, s.serverTime(page))
	}
	s.end(fromServer)
}
