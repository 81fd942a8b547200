package analyzer

import (
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// relay sends the same request on each connection in turn (client leg
// first, as a balancer relays it).
func relay(method, target string, header string, conns ...*tconn) {
	for _, c := range conns {
		if header == "" {
			c.req(method, target)
		} else {
			c.req(method, target, header)
		}
	}
}

// relayBack answers the pending requests, upstream first, with the same
// response.
func relayBack(status int, headers []string, conns ...*tconn) {
	for i := len(conns) - 1; i >= 0; i-- {
		conns[i].resp(status, headers...)
	}
}

// relayedChallenge relays a bare request and its 401, then a Type 1, over
// cl and up; it returns the challenge backend will answer it with.
func relayedChallenge(s *script, cl, up *tconn, backend string) *challenge {
	relay("GET", "/app", "", cl, up)
	relayBack(401, []string{"WWW-Authenticate: NTLM"}, cl, up)
	relay("GET", "/app", server.cred(type1(), true), cl, up)
	return s.newChallenge(backend)
}

// proxiedLogin plays a handshake through a balancer: Type 1 and Type 2
// over up1, Type 3 and the final answer over up3.
func proxiedLogin(s *script, cl, up1, up3 *tconn, backend, user string, final int) {
	ch := relayedChallenge(s, cl, up1, backend)
	relayBack(401, []string{server.chal(ch.token)}, cl, up1)
	relay("GET", "/app", server.cred(s.type3(user, ch, t3opts{}), false), cl, up3)
	if final == 401 {
		relayBack(401, []string{"WWW-Authenticate: NTLM"}, cl, up3)
	} else {
		relayBack(final, nil, cl, up3)
	}
}

const (
	balancerIP = "10.0.0.100"
	web01      = "10.0.1.11:80"
	web02      = "10.0.1.12:80"
)

func TestLegs(t *testing.T) { runCases(t, legCases()) }

// legCases are the scenarios of TestLegs.
func legCases() []outcomeCase {
	return []outcomeCase{
		{
			// The client leg captured on one host, the upstream leg on
			// another whose clock is 2 ms behind: every token is seen
			// upstream first. The delays still tell the legs apart.
			name: "two capture hosts, the upstream one's clock behind",
			play: func(s *script) {
				cl := s.conn(client1, vip)
				up := s.conn(balancerIP+":40000", web01, inFile(1))
				up.clock = -2 * time.Millisecond
				proxiedLogin(s, cl, up, up, "WEB01", `CORP\alice`, 200)
				// A Kerberos request relayed too: more request tokens
				// than response tokens, which the clock turns around.
				relay("GET", "/k", "Authorization: Negotiate "+b64(s.spnegoKerberos()), cl, up)
				relayBack(200, nil, cl, up)
			},
			want: expect{verdict: VerdictHealthy},
			sum: Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 1, UpstreamConnections: 1,
				KerberosExchanges: 1},
			check: func(t *testing.T, r *Report) {
				if cl := r.Connections[0]; cl.Leg != LegClient || len(r.Users) != 1 || r.Users[0].Clients[0] != "10.0.0.5" {
					t.Errorf("connection 0 is %s; users %+v", cl.Leg, r.Users)
				}
			},
		},
		{
			// The same with a balancer that routes each request: no
			// pair of connections carries both a request and a response
			// token, so the two files' tokens together decide.
			name: "two capture hosts, round robin, the upstream one's clock behind",
			play: func(s *script) {
				cl := s.conn(client1, vip)
				up1 := s.conn(balancerIP+":40000", web01, inFile(1))
				up2 := s.conn(balancerIP+":40001", web02, inFile(1))
				up1.clock, up2.clock = -3*time.Millisecond, -3*time.Millisecond
				proxiedLogin(s, cl, up1, up2, "WEB01", `CORP\alice`, 401)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3RoutedToOtherBackend}},
			sum:  Summary{Handshakes: 1, HandshakesFailed: 1, Connections: 1, UpstreamConnections: 2},
		},
		{
			// Captures on the client host and on the server host: the
			// same connection, same addresses, twice. It is one
			// handshake, and the client's other connections stay client
			// legs (the client is no balancer).
			name: "one connection captured at both ends",
			play: func(s *script) {
				cl := s.conn(client1, vip)
				same := s.conn(client1, vip, inFile(1))
				same.clock = 5 * time.Millisecond // the server host's clock is ahead
				proxiedLogin(s, cl, same, same, "WEB01", `CORP\alice`, 200)
				other := s.conn(client2, vip)
				other.login(server, "WEB01", `CORP\alice`, 200)
			},
			want: expect{verdict: VerdictHealthy},
			sum:  Summary{Handshakes: 2, HandshakesSucceeded: 2, Connections: 2, UpstreamConnections: 1},
			check: func(t *testing.T, r *Report) {
				if r.Connections[0].Leg != LegClient || r.Connections[1].Leg != LegUpstream {
					t.Errorf("the client host's copy is %s, the server host's %s", r.Connections[0].Leg, r.Connections[1].Leg)
				}
				if r.Connections[2].Leg != LegClient {
					t.Errorf("connection 2 (another of the client's) is %s", r.Connections[2].Leg)
				}
			},
		},
		{
			name: "both legs, healthy: linked and counted once",
			play: func(s *script) {
				cl := s.conn(client1, vip)
				up := s.conn(balancerIP+":40000", web01)
				proxiedLogin(s, cl, up, up, "WEB01", `CORP\alice`, 200)
				for i := 0; i < 3; i++ {
					relay("GET", "/page/"+itoa(i), "", cl, up)
					relayBack(200, nil, cl, up)
				}
			},
			want: expect{verdict: VerdictHealthy, hasNot: []string{CodeAuthenticatedConnShared, CodeClientIsProxy}},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 1, UpstreamConnections: 1, AuthenticatedRequests: 3},
			check: func(t *testing.T, r *Report) {
				cl, up := r.Connections[0], r.Connections[1]
				if cl.Leg != LegClient || up.Leg != LegUpstream || len(cl.Linked) != 1 || cl.Linked[0] != up.ID {
					t.Errorf("legs: %s %v / %s %v", cl.Leg, cl.Linked, up.Leg, up.Linked)
				}
				if len(up.Handshakes) != 1 || !up.Handshakes[0].Upstream || up.Handshakes[0].Outcome != OutcomeSucceeded {
					t.Errorf("upstream handshakes = %+v", up.Handshakes)
				}
				if r.Summary.UpstreamHTTPRequests != 6 || r.Summary.HTTPRequests != 6 {
					t.Errorf("requests = %d, upstream %d", r.Summary.HTTPRequests, r.Summary.UpstreamHTTPRequests)
				}
				if u := findUser(t, r, `CORP\alice`); u.Handshakes != 1 || u.Connections != 1 {
					t.Errorf("user = %+v", u)
				}
				if h := cl.Handshakes[0]; len(h.Route) < 3 {
					t.Errorf("route = %+v", h.Route)
				}
			},
		},
		{
			name: "both legs: Type 3 routed to another backend",
			play: func(s *script) {
				cl := s.conn(client1, vip)
				up1 := s.conn(balancerIP+":40000", web01)
				up2 := s.conn(balancerIP+":40001", web02)
				proxiedLogin(s, cl, up1, up2, "WEB01", `CORP\alice`, 401)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3RoutedToOtherBackend},
				hasNot: []string{CodeAuthFailed}, causes: map[string]int{CauseBalancer: 1}},
			sum: Summary{Handshakes: 1, HandshakesFailed: 1, Connections: 1, UpstreamConnections: 2},
			check: func(t *testing.T, r *Report) {
				h := r.Connections[0].Handshakes[0]
				var t2, t3 int
				for _, st := range h.Route {
					switch st.Step {
					case "type2":
						t2 = st.Connection
					case "type3":
						t3 = st.Connection
					}
				}
				if t2 != 1 || t3 != 2 {
					t.Errorf("route = %+v", h.Route)
				}
			},
		},
		{
			name: "both legs: authenticated upstream connection shared",
			play: func(s *script) {
				a := s.conn(client1, vip)
				up := s.conn(balancerIP+":40000", web01)
				proxiedLogin(s, a, up, up, "WEB01", `CORP\alice`, 200)
				b := s.conn("10.0.0.9:51000", vip)
				relay("GET", "/payroll", "", b, up)
				relayBack(200, nil, b, up)
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeAuthenticatedConnShared}},
			check: func(t *testing.T, r *Report) {
				for _, f := range r.Findings {
					if f.Code == CodeAuthenticatedConnShared && f.Severity != SeverityCritical {
						t.Errorf("severity = %s", f.Severity)
					}
				}
				if len(r.Verdict.Remedies) == 0 || !contains(r.Verdict.Remedies[0], "Urgent") {
					t.Errorf("remedies = %v", r.Verdict.Remedies)
				}
			},
		},
		{
			name: "both legs: handshakes of two clients interleave upstream",
			play: func(s *script) {
				a := s.conn(client1, vip)
				b := s.conn("10.0.0.9:51000", vip)
				up := s.conn(balancerIP+":40000", web01)
				relay("GET", "/app", server.cred(type1(), true), a, up)
				cha := s.newChallenge("WEB01")
				relayBack(401, []string{server.chal(cha.token)}, a, up)
				relay("GET", "/app", server.cred(type1(), true), b, up)
				chb := s.newChallenge("WEB01")
				relayBack(401, []string{server.chal(chb.token)}, b, up)
				relay("GET", "/app", server.cred(s.type3(`CORP\alice`, cha, t3opts{}), false), a, up)
				relayBack(401, []string{"WWW-Authenticate: NTLM"}, a, up)
				relay("GET", "/app", server.cred(s.type3(`CORP\bob`, chb, t3opts{}), false), b, up)
				relayBack(401, []string{"WWW-Authenticate: NTLM"}, b, up)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeInterleavedHandshakes}},
			sum:  Summary{Handshakes: 2, HandshakesFailed: 2, Connections: 2, UpstreamConnections: 1},
		},
		{
			name: "backend side only, balancer names clients in X-Forwarded-For",
			play: func(s *script) {
				for i, user := range []string{`CORP\alice`, `CORP\alice`} {
					xff := "X-Forwarded-For: 192.168.1." + itoa(10+i)
					u1 := s.conn(balancerIP+":4000"+itoa(3*i), web01)
					u1.anon(server, xff)
					u1.finClient()
					u2 := s.conn(balancerIP+":4000"+itoa(3*i+1), web02)
					ch := u2.t1(server, "WEB02", xff)
					u2.finClient()
					u3 := s.conn(balancerIP+":4000"+itoa(3*i+2), web01)
					u3.req("GET", "/app", server.cred(s.type3(user, ch, t3opts{}), false), xff)
					u3.resp(401, "WWW-Authenticate: NTLM")
					u3.finClient()
					s.wait(time.Minute)
				}
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3WithoutChallenge, CodeClientIsProxy},
				causes: map[string]int{CauseBalancer: 2, CauseClient: 0}},
			sum: Summary{Handshakes: 2, HandshakesFailed: 2, HandshakesSplit: 2, Connections: 6},
			check: func(t *testing.T, r *Report) {
				u := findUser(t, r, `CORP\alice`)
				if len(u.Clients) != 2 || u.Clients[0] != "192.168.1.10" {
					t.Errorf("clients = %v", u.Clients)
				}
			},
		},
		{
			name: "backend side only, one balancer connection carries several users",
			play: func(s *script) {
				u1 := s.conn(balancerIP+":40000", web01)
				u2 := s.conn(balancerIP+":40001", web02)
				cha := u1.t1(server, "WEB01")
				chb := u2.t1(server, "WEB02")
				u2.t3(server, `CORP\alice`, cha, 401)
				u1.t3(server, `CORP\bob`, chb, 401)
			},
			// Each Type 3 echoes the other connection's Type 2: it is
			// joined with that one (a split the balancer made), and its own
			// connection's Type 2 is the proof that the balancer moved it.
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3RoutedToOtherBackend, CodeClientIsProxy},
				hasNot: []string{CodeType3WithoutChallenge, CodeClientAbandonedHandshake}},
			sum: Summary{Handshakes: 2, HandshakesFailed: 2, HandshakesSplit: 2, Connections: 2},
			check: func(t *testing.T, r *Report) {
				for _, h := range r.Connections[0].Handshakes {
					if want := map[string]int64{`CORP\alice`: 4, `CORP\bob`: 6}[h.User]; h.Frames.Type2 != want {
						t.Errorf("%s answers the Type 2 of frame %d, want %d", h.User, h.Frames.Type2, want)
					}
				}
			},
		},
		{
			name: "backend side only, authenticated connection serves another client",
			play: func(s *script) {
				u := s.conn(balancerIP+":40000", web01)
				u.anon(server, "X-Forwarded-For: 192.168.1.10")
				ch := u.t1(server, "WEB01", "X-Forwarded-For: 192.168.1.10")
				u.req("GET", "/app", server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false), "X-Forwarded-For: 192.168.1.10")
				u.resp(200)
				u.get(1, 200, "X-Forwarded-For: 192.168.1.10")
				u.get(2, 200, "X-Forwarded-For: 192.168.1.77")
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeAuthenticatedConnShared}},
		},
		{
			name: "both legs, server-close balancer: each request on a new upstream connection",
			play: func(s *script) {
				cl := s.conn(client1, vip)
				u1 := s.conn(balancerIP+":40000", web01)
				relay("GET", "/app", "", cl, u1)
				relayBack(401, []string{"WWW-Authenticate: NTLM"}, cl, u1)
				u1.finClient()
				u2 := s.conn(balancerIP+":40001", web02)
				relay("GET", "/app", server.cred(type1(), true), cl, u2)
				ch := s.newChallenge("WEB02")
				relayBack(401, []string{server.chal(ch.token)}, cl, u2)
				u2.finClient()
				u3 := s.conn(balancerIP+":40002", web01)
				relay("GET", "/app", server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false), cl, u3)
				relayBack(401, []string{"WWW-Authenticate: NTLM"}, cl, u3)
				u3.finClient()
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3RoutedToOtherBackend}, hasNot: []string{CodeAuthFailed}},
			sum:  Summary{Handshakes: 1, HandshakesFailed: 1, Connections: 1, UpstreamConnections: 3},
			check: func(t *testing.T, r *Report) {
				if r.Summary.UpstreamHTTPRequests != 3 || r.Summary.HTTPRequests != 3 {
					t.Errorf("requests = %d, upstream %d", r.Summary.HTTPRequests, r.Summary.UpstreamHTTPRequests)
				}
			},
		},
		{
			name: "tokens byte-identical Type 1 do not link connections",
			play: func(s *script) {
				for _, c := range []string{client1, client2} {
					cn := s.conn(c, vip)
					cn.login(server, "WEB01", `CORP\alice`, 200)
				}
			},
			want: expect{verdict: VerdictHealthy},
			sum:  Summary{Handshakes: 2, HandshakesSucceeded: 2, Connections: 2},
		},
	}
}

// TestLegsRingBuffer: two consecutive files of one host's ring buffer (one
// clock). A Type 3 relayed across the boundary has its client leg in the
// first file, a Type 2 its upstream leg: the two files are not pooled as
// two hosts' captures, and every client connection stays a client leg.
func TestLegsRingBuffer(t *testing.T) {
	s := newScript(t)
	// File 0: alice's handshake up to her Type 3 on the client leg, and
	// bob's up to his Type 2 on the upstream leg, when the file rolls over.
	cl := s.conn("10.0.0.5:50000", vip)
	up := s.conn(balancerIP+":40000", web01)
	ch := relayedChallenge(s, cl, up, "WEB01")
	relayBack(401, []string{server.chal(ch.token)}, cl, up)
	t3 := server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false)
	cb := s.conn("10.0.0.6:50000", vip)
	ub := s.conn(balancerIP+":40001", web01)
	chb := relayedChallenge(s, cb, ub, "WEB01")
	ub.resp(401, server.chal(chb.token))
	cl.req("GET", "/app", t3)
	for _, c := range []*tconn{cl, up, cb, ub} {
		c.endAs(reassembly.EndCapture)
	}
	// File 1: the same connections go on (alice's Type 3 relayed, bob's
	// Type 2 relayed back), and each client makes another connection,
	// which fails.
	up2 := s.conn(balancerIP+":40000", web01, inFile(1), midstream)
	up2.req("GET", "/app", t3)
	up2.resp(200)
	cb2 := s.conn("10.0.0.6:50000", vip, inFile(1), midstream)
	cb2.req("GET", "/app")
	cb2.resp(401, server.chal(chb.token))
	other := s.conn("10.0.0.6:50001", vip, inFile(1))
	other.login(server, "WEB01", `CORP\bob`, 401)
	other.finClient()
	mine := s.conn("10.0.0.5:50002", vip, inFile(1))
	mine.login(server, "WEB01", `CORP\alice`, 401)
	mine.finClient()
	r := s.finish()
	for _, c := range r.Connections {
		if client := !strings.HasPrefix(c.Client, balancerIP+":"); client && c.Leg != LegClient {
			t.Errorf("client connection %d (%s) marked %s", c.ID, c.Client, c.Leg)
		}
	}
}
