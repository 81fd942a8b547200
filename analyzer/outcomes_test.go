package analyzer

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// outcomeCase plays a capture and checks the verdict, findings and counts.
type outcomeCase struct {
	name string
	play func(s *script)
	want expect
	sum  Summary // only the non-zero fields of interest are compared
	// says maps finding codes to a text the message of the first finding
	// of that code must contain.
	says  map[string]string
	check func(t *testing.T, r *Report)
}

// compareSummary compares the handshake counts of want with got.
func compareSummary(t *testing.T, want, got Summary) {
	t.Helper()
	if want == (Summary{}) {
		return
	}
	type kv struct {
		name      string
		want, got int
	}
	for _, x := range []kv{
		{"handshakes", want.Handshakes, got.Handshakes},
		{"succeeded", want.HandshakesSucceeded, got.HandshakesSucceeded},
		{"failed", want.HandshakesFailed, got.HandshakesFailed},
		{"abandoned", want.HandshakesAbandoned, got.HandshakesAbandoned},
		{"incomplete", want.HandshakesIncomplete, got.HandshakesIncomplete},
		{"authenticated_requests", want.AuthenticatedRequests, got.AuthenticatedRequests},
		{"kerberos_exchanges", want.KerberosExchanges, got.KerberosExchanges},
		{"connections", want.Connections, got.Connections},
		{"upstream_connections", want.UpstreamConnections, got.UpstreamConnections},
		{"handshakes_split", want.HandshakesSplit, got.HandshakesSplit},
		{"challenges_not_captured", want.ChallengesNotCaptured, got.ChallengesNotCaptured},
	} {
		if x.want != x.got {
			t.Errorf("summary %s = %d, want %d", x.name, x.got, x.want)
		}
	}
}

func runCases(t *testing.T, cases []outcomeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			tc.play(s)
			r := s.finish()
			tc.want.check(t, r)
			compareSummary(t, tc.sum, r.Summary)
			for code, text := range tc.says {
				if m := findingMessage(r, code); !strings.Contains(m, text) {
					t.Errorf("%s says %q, want it to contain %q", code, m, text)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if t.Failed() {
				t.Logf("explanation: %s", r.Verdict.Explanation)
				for _, f := range r.Findings {
					t.Logf("finding %s %v: %s", f.Code, f.Connections, f.Message)
				}
				for _, c := range r.Connections {
					for _, h := range c.Handshakes {
						t.Logf("conn %d hs %d %s %s/%s %s frames %+v", c.ID, h.ID, h.User, h.Outcome, h.Cause, h.Evidence, h.Frames)
					}
				}
			}
		})
	}
}

const (
	client1 = "10.0.0.5:50000"
	client2 = "10.0.0.5:50001"
	client3 = "10.0.0.5:50002"
	vip     = "10.0.0.100:80"
)

func TestOutcomes(t *testing.T) { runCases(t, outcomeCases()) }

// outcomeCases are the scenarios of TestOutcomes.
func outcomeCases() []outcomeCase {
	return []outcomeCase{
		{
			// The client had a ticket and sent it; the server answered
			// 401, and the client fell back to NTLM: the finding must not
			// say that the client found no ticket.
			name: "Kerberos ticket rejected, then NTLM inside Negotiate",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.req("GET", "/app")
				c.resp(401, "WWW-Authenticate: Negotiate", "WWW-Authenticate: NTLM", "Content-Length: 0")
				c.req("GET", "/app", "Authorization: Negotiate "+b64(s.spnegoKerberos()))
				c.resp(401, "WWW-Authenticate: Negotiate", "WWW-Authenticate: NTLM", "Content-Length: 0")
				ch := c.t1(negoA, "WEB01")
				c.t3(negoA, `CORP\alice`, ch, 200)
				c.get(3, 200)
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeNegotiateFellBackToNTLM}},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, AuthenticatedRequests: 3, Connections: 1, KerberosExchanges: 1},
			check: func(t *testing.T, r *Report) {
				m := findingMessage(r, CodeNegotiateFellBackToNTLM)
				if !strings.Contains(m, "when a Kerberos token was refused first, the SPN belongs to another account") {
					t.Errorf("NEGOTIATE_FELL_BACK_TO_NTLM says %q", m)
				}
			},
		},
		{
			name: "healthy keep-alive NTLM",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `CORP\alice`, 200)
				c.get(5, 200)
				c.finClient()
			},
			want: expect{verdict: VerdictHealthy, hasNot: []string{CodeHandshakePerRequest, CodeReauthOnAuthenticated}},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, AuthenticatedRequests: 5, Connections: 1},
			check: func(t *testing.T, r *Report) {
				u := findUser(t, r, `CORP\alice`)
				if u.Handshakes != 1 || u.Succeeded != 1 || u.AuthenticatedRequests != 5 || u.Requests != 8 {
					t.Errorf("user = %+v", u)
				}
				if st := r.Connections[0].State; st != StateAuthenticated {
					t.Errorf("state = %s", st)
				}
			},
		},
		{
			name: "one handshake serves 100 requests",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `CORP\alice`, 200)
				c.get(100, 200)
			},
			want: expect{verdict: VerdictHealthy, hasNot: []string{CodeHandshakePerRequest}},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, AuthenticatedRequests: 100, Connections: 1},
			check: func(t *testing.T, r *Report) {
				if u := findUser(t, r, `CORP\alice`); u.AuthenticatedRequests != 100 {
					t.Errorf("authenticated_requests = %d", u.AuthenticatedRequests)
				}
				if h := r.Connections[0].Handshakes[0]; h.AuthenticatedRequests != 100 {
					t.Errorf("handshake authenticated_requests = %d", h.AuthenticatedRequests)
				}
			},
		},
		{
			name: "Negotiate-wrapped NTLM",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(negoA, "WEB01", `CORP\alice`, 200)
				c.get(2, 200)
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeNegotiateFellBackToNTLM}},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, AuthenticatedRequests: 2, Connections: 1},
			check: func(t *testing.T, r *Report) {
				h := r.Connections[0].Handshakes[0]
				if h.Scheme != "Negotiate" || !h.SPNEGO || h.User != `CORP\alice` || h.ServerIdentity != "web01.corp.example" {
					t.Errorf("handshake = %+v", h)
				}
			},
		},
		{
			name: "raw NTLMSSP under Negotiate",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(negoA)
				c.req("GET", "/app", "Authorization: Negotiate "+b64(type1()))
				ch := s.newChallenge("WEB01")
				c.resp(401, "WWW-Authenticate: Negotiate "+b64(ch.token))
				c.req("GET", "/app", "Authorization: Negotiate "+b64(s.type3(`10.0.1.101\Susan`, ch, t3opts{})))
				c.resp(200)
			},
			want: expect{verdict: VerdictHealthy},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 1},
			check: func(t *testing.T, r *Report) {
				h := r.Connections[0].Handshakes[0]
				if h.Scheme != "Negotiate" || h.SPNEGO || h.User != `10.0.1.101\Susan` {
					t.Errorf("handshake = %+v", h)
				}
			},
		},
		{
			name: "proxy 407 healthy",
			play: func(s *script) {
				c := s.conn(client1, "10.0.0.3:3128")
				c.login(proxyA, "SQUID", `CORP\bob`, 200)
				c.get(4, 200)
			},
			want: expect{verdict: VerdictHealthy},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, AuthenticatedRequests: 4, Connections: 1},
			check: func(t *testing.T, r *Report) {
				h := r.Connections[0].Handshakes[0]
				if !h.Proxy || h.Status != 200 || h.Frames.Type2 == 0 {
					t.Errorf("handshake = %+v", h)
				}
				if r.Summary.AuthOffers != 1 || r.Summary.AuthChallenges != 1 {
					t.Errorf("offers/challenges = %d/%d", r.Summary.AuthOffers, r.Summary.AuthChallenges)
				}
			},
		},
		{
			// A CONNECT tunnel (or a plain proxy) the proxy authenticated,
			// carrying a server handshake: each request counts once, so that
			// the user's counts are the connection's.
			name: "proxy and server handshakes on one connection",
			play: func(s *script) {
				c := s.conn(client1, "10.0.0.3:3128")
				c.login(proxyA, "SQUID", `CORP\bob`, 200) // 3 requests
				c.login(server, "WEB01", `CORP\bob`, 200) // 3 more, proxy-authenticated
				c.get(2, 200)                             // served on both handshakes
				c.get(1, 404)                             // served, then refused by the page
			},
			want: expect{verdict: VerdictHealthy},
			sum:  Summary{Handshakes: 2, HandshakesSucceeded: 2, AuthenticatedRequests: 3, Connections: 1},
			check: func(t *testing.T, r *Report) {
				hs := r.Connections[0].Handshakes
				if len(hs) != 2 || !hs[0].Proxy || hs[1].Proxy || hs[0].AuthenticatedRequests != 0 || hs[1].AuthenticatedRequests != 3 {
					t.Errorf("handshakes = %+v", hs)
				}
				if len(r.Users) != 1 || r.Users[0].Requests != 9 || r.Users[0].AuthenticatedRequests != 3 ||
					r.Connections[0].AuthenticatedRequests != 3 {
					t.Errorf("users = %+v, connection's authenticated requests %d", r.Users, r.Connections[0].AuthenticatedRequests)
				}
			},
		},
		{
			// Kerberos to the server makes no NTLM handshake: the request
			// counts for the proxy's, which carried it.
			name: "proxy NTLM, then Kerberos to the server",
			play: func(s *script) {
				c := s.conn(client1, "10.0.0.3:3128")
				c.login(proxyA, "SQUID", `CORP\bob`, 200)
				c.req("GET", "http://intranet/", "Authorization: Negotiate "+b64(s.kerberosAPReq()))
				c.resp(200)
				c.get(1, 200)
			},
			want: expect{verdict: VerdictHealthy},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, AuthenticatedRequests: 2, KerberosExchanges: 1, Connections: 1},
		},
		{
			name: "close right after the first bare 407 is not a fault",
			play: func(s *script) {
				a := s.conn(client1, "10.0.0.3:3128")
				a.req("GET", "http://example.com/")
				a.resp(407, "Proxy-Authenticate: NTLM", "Connection: close")
				a.finServer()
				b := s.conn(client2, "10.0.0.3:3128")
				ch := b.t1(proxyA, "SQUID")
				b.t3(proxyA, `CORP\bob`, ch, 200)
			},
			want: expect{verdict: VerdictHealthy, hasNot: []string{CodeConnectionClosedMidHS, CodeHandshakeRestarted}},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 2},
		},
		{
			name: "wrong password is a credential failure",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				for i := 0; i < 3; i++ {
					ch := c.t1(server, "WEB01")
					c.t3(server, `CORP\alice`, ch, 401)
				}
				c.finClient()
			},
			want: expect{verdict: VerdictCredentials, has: []string{CodeAuthFailed, CodeHandshakeRestarted},
				hasNot: []string{CodeChallengeServerChanged, CodeType3WithoutChallenge, CodeType3RoutedToOtherBackend},
				causes: map[string]int{CauseCredentials: 3, CauseBalancer: 0}},
			// One leg: the balancer the server address may be is named.
			says: map[string]string{CodeAuthFailed: "wrong password or an account problem, unless " + vip + " is a balancer"},
			sum:  Summary{Handshakes: 3, HandshakesFailed: 3, Connections: 1},
			check: func(t *testing.T, r *Report) {
				if !slices.Contains(r.Verdict.Remedies, remedyOneLeg) {
					t.Errorf("remedies %q lack the backend capture", r.Verdict.Remedies)
				}
				u := findUser(t, r, `CORP\alice`)
				if u.Failed != 3 || u.Restarts != 2 {
					t.Errorf("user = %+v", u)
				}
				if len(r.Verdict.Remedies) == 0 {
					t.Error("no remedies")
				}
			},
		},
		{
			name: "same user fails then succeeds: intermittent, not credentials",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `CORP\alice`, 401)
				ch := c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, ch, 200)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeIntermittentAuthFailure, CodeHandshakeRestarted},
				hasNot: []string{CodeAuthFailed}},
			sum: Summary{Handshakes: 2, HandshakesSucceeded: 1, HandshakesFailed: 1, Connections: 1},
		},
		{
			name: "Kerberos under Negotiate with NTLMSSP in mechTypes",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(negoA)
				c.req("GET", "/app", "Authorization: Negotiate "+b64(s.spnegoKerberos()))
				c.resp(200)
			},
			want: expect{verdict: VerdictNoNTLM, has: []string{CodeKerberosInUse}, hasNot: []string{CodeNegotiateFellBackToNTLM}},
			sum:  Summary{KerberosExchanges: 1, Connections: 1},
			check: func(t *testing.T, r *Report) {
				if !contains(r.Verdict.Explanation, "Kerberos") {
					t.Errorf("explanation does not say Kerberos: %s", r.Verdict.Explanation)
				}
				if len(r.Connections[0].Handshakes) != 0 || r.Connections[0].State != StateKerberos {
					t.Errorf("connection = %+v", r.Connections[0])
				}
			},
		},
		{
			name: "bare Kerberos scheme",
			play: func(s *script) {
				c := s.conn(client1, "10.0.0.1:5985")
				c.req("POST", "/wsman", "Authorization: Kerberos "+b64(s.kerberosAPReq()))
				c.resp(200)
				c.get(3, 200)
			},
			want: expect{verdict: VerdictNoNTLM},
			sum:  Summary{KerberosExchanges: 1, Connections: 1},
		},
		{
			name: "no auth at all",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.get(2, 200)
			},
			want: expect{verdict: VerdictNoNTLM},
			sum:  Summary{Connections: 1},
		},
		{
			name: "Type 3 after a server-side gap succeeds",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true))
				ch := s.newChallenge("WEB01")
				c.gap(1)
				c.drop()
				c.t3(server, `CORP\alice`, ch, 200)
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeChallengeNotCaptured},
				hasNot: []string{CodeType3WithoutChallenge}},
			sum: Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 1, ChallengesNotCaptured: 1},
		},
		{
			name: "Type 3 after a server-side gap fails: not blamed",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true))
				ch := s.newChallenge("WEB01")
				c.gap(1)
				c.drop()
				c.t3(server, `CORP\alice`, ch, 401)
			},
			want: expect{verdict: VerdictInconclusive, has: []string{CodeChallengeNotCaptured},
				hasNot: []string{CodeType3WithoutChallenge, CodeAuthFailed},
				causes: map[string]int{CauseUnknown: 1, CauseBalancer: 0, CauseCredentials: 0}},
			sum: Summary{Handshakes: 1, HandshakesFailed: 1, Connections: 1, ChallengesNotCaptured: 1},
			check: func(t *testing.T, r *Report) {
				if len(r.Verdict.Remedies) == 0 || !contains(r.Verdict.Explanation, "Capture again") {
					t.Errorf("inconclusive without capture advice: %s", r.Verdict.Explanation)
				}
			},
		},
		{
			name: "responses lost in a gap do not shift the pairing",
			play: func(s *script) {
				c := s.conn(client1, vip, midstream)
				c.req("GET", "/")
				c.req("GET", "/", server.cred(type1(), true))
				ch := s.newChallenge("WEB01")
				c.req("GET", "/", server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false))
				c.gap(1)
				c.pending = c.pending[2:] // the reassembler pairs the 302 with the Type 3 (its answer)
				c.resp(302)
				c.get(2, 200)
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeChallengeNotCaptured},
				hasNot: []string{CodeType1NotChallenged}},
			sum: Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 1, ChallengesNotCaptured: 1, AuthenticatedRequests: 2},
			check: func(t *testing.T, r *Report) {
				if h := r.Connections[0].Handshakes[0]; h.Status != 302 || h.Frames.Final != h.Frames.Type3+1 {
					t.Errorf("handshake = %+v", h)
				}
			},
		},
		{
			// The two directions came from two clocks (a full-duplex tap):
			// the Type 2 is stamped before the Type 1 it answers, though
			// the file has it after. Either order alone pairs them.
			name: "a response stamped before its request",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true))
				s.wait(-2 * time.Millisecond)
				ch := c.t2(server, "WEB01")
				s.wait(3 * time.Millisecond)
				c.t3(server, `CORP\alice`, ch, 200)
				c.finClient()
			},
			want: expect{verdict: VerdictHealthy, hasNot: []string{CodeType1NotChallenged}},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 1},
		},
		{
			// A gap inside a response's body loses no response: pipelined
			// responses after it keep their requests.
			name: "a gap inside a body does not shift pipelined pairs",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				ch := c.t1(server, "WEB01")
				c.req("GET", "/app", server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false))
				c.req("GET", "/next") // pipelined
				c.gap(1)              // inside the 200's body: the reassembler pairs on
				c.resp(200, "Content-Length: 5000")
				c.resp(200)
				c.finClient()
			},
			want: expect{verdict: VerdictHealthy},
			// /next was sent before the connection was authenticated.
			sum: Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 1},
		},
		{
			name: "mid-stream start with a Type 3 first",
			play: func(s *script) {
				c := s.conn(client1, vip, midstream)
				ch := s.newChallenge("WEB01")
				c.t3(server, `CORP\alice`, ch, 200)
				c.get(2, 200)
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeChallengeNotCaptured}, hasNot: []string{CodeType3WithoutChallenge}},
			sum:  Summary{Handshakes: 1, HandshakesSucceeded: 1, Connections: 1, ChallengesNotCaptured: 1, AuthenticatedRequests: 2},
		},
		{
			name: "capture ends after the Type 2",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `CORP\alice`, 200)
				d := s.conn(client2, vip)
				d.anon(server)
				d.t1(server, "WEB01")
			},
			want: expect{verdict: VerdictHealthy, hasNot: []string{CodeClientAbandonedHandshake, CodeConnectionClosedMidHS}},
			sum:  Summary{Handshakes: 2, HandshakesSucceeded: 1, HandshakesIncomplete: 1, Connections: 2},
			check: func(t *testing.T, r *Report) {
				if r.Connections[1].State != StateMidHandshake {
					t.Errorf("state = %s", r.Connections[1].State)
				}
				if u := findUser(t, r, "(unknown)"); u.Incomplete != 1 {
					t.Errorf("(unknown) = %+v", u)
				}
				if r.Summary.Users != 1 {
					t.Errorf("users = %d", r.Summary.Users)
				}
			},
		},
		{
			// A server (or a device in front of it) that resets the
			// connection on the Type 3 broke the handshake: the capture
			// did not end on it.
			name: "the server side resets the connection on the Type 3",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				ch := c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, ch, 0)
				c.rstServer()
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeConnectionClosedMidHS}},
			sum:  Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
			says: map[string]string{CodeConnectionClosedMidHS: "after the Type 3 (frame 6) without answering it"},
		},
		{
			name: "the client closes after its Type 3 before any answer",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				ch := c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, ch, 0)
				c.finClient()
			},
			want: expect{verdict: VerdictClient, has: []string{CodeClientAbandonedHandshake}},
			sum:  Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
			says: map[string]string{CodeClientAbandonedHandshake: "sent the Type 3 (frame 6)"},
		},
		{
			// The Type 2 said Connection: close and the server side
			// closed; the client sent its Type 3 on the closed
			// connection anyway and got a reset.
			name: "the client sends its Type 3 on a connection the server closed",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true))
				ch := c.t2(server, "WEB01", "Connection: close")
				f, _ := s.tick()
				c.c.FINFrame[1] = f
				c.t3(server, `CORP\alice`, ch, 0)
				f2, now := s.tick()
				c.c.RSTFrame[1] = f2
				c.c.End, c.c.Ended = now, reassembly.EndRST
				c.closeWith()
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeConnectionClosedMidHS}},
			sum:  Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
			check: func(t *testing.T, r *Report) {
				m := findingMessage(r, CodeConnectionClosedMidHS)
				if !strings.Contains(m, "closed connection 0 (frame 6) after the Type 2, and the Type 3 the client still sent on it (frame 7) got no answer") {
					t.Errorf("CONNECTION_CLOSED_MID_HANDSHAKE says %q", m)
				}
			},
		},
		{
			// The answer may be in the gap: not judged.
			name: "a gap after the Type 3, then the server closes",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				ch := c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, ch, 0)
				c.gap(1)
				c.finServer()
			},
			want: expect{verdict: VerdictHealthy, hasNot: []string{CodeConnectionClosedMidHS}},
			sum:  Summary{Handshakes: 1, HandshakesIncomplete: 1, Connections: 1},
		},
		{
			// Both directions lose bytes: the Type 3 is found by
			// resynchronising, and a server gap after it may hold the
			// answer: not judged.
			name: "a resynced Type 3, then a server gap, then the server closes",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true))
				c.gap(0)
				ch := c.t2(server, "WEB01")
				c.reqResynced("GET", "/app", server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false))
				c.gap(1)
				c.finServer()
			},
			want: expect{hasNot: []string{CodeConnectionClosedMidHS}},
			sum:  Summary{Handshakes: 1, HandshakesIncomplete: 1, Connections: 1},
		},
		{
			// A new SYN on the 4-tuple ended the connection, with no FIN
			// or RST seen: the capture lost sight of it.
			name: "the 4-tuple is reused after the Type 3",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				ch := c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, ch, 0)
				c.endAs(reassembly.EndReplaced)
			},
			want: expect{verdict: VerdictHealthy},
			sum:  Summary{Handshakes: 1, HandshakesIncomplete: 1, Connections: 1},
		},
		{
			// The client walks away 0.1 s after its Type 3; the server
			// side closes 10 s later (an idle timeout): the wait is the
			// client's, to its own FIN.
			name: "the client walks away after its Type 3, the server closes later",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				ch := c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, ch, 0)
				s.wait(100 * time.Millisecond)
				f, now := s.tick()
				c.c.FINFrame[0], c.c.CloseTime[0] = f, now
				s.wait(10 * time.Second)
				f, now = s.tick()
				c.c.FINFrame[1], c.c.CloseTime[1] = f, now
				c.c.End, c.c.Ended = now, reassembly.EndFIN
				c.closeWith()
			},
			want: expect{verdict: VerdictClient, has: []string{CodeClientAbandonedHandshake}},
			sum:  Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
			says: map[string]string{CodeClientAbandonedHandshake: "closed the connection without waiting for the answer"},
		},
		{
			// The server (its domain controller) never answers; the
			// clients time out: not the clients' fault.
			name: "the client gives up after waiting for the answer to its Type 3",
			play: func(s *script) {
				for _, addr := range []string{client1, client2} {
					c := s.conn(addr, vip)
					c.anon(server)
					ch := c.t1(server, "WEB01")
					c.t3(server, `CORP\alice`, ch, 0)
					s.wait(60 * time.Second)
					c.finClient()
				}
			},
			want: expect{verdict: VerdictInconclusive, has: []string{CodeClientAbandonedHandshake},
				causes: map[string]int{CauseUnknown: 2, CauseClient: 0}},
			sum: Summary{Handshakes: 2, HandshakesAbandoned: 2, Connections: 2},
			check: func(t *testing.T, r *Report) {
				if m := findingMessage(r, CodeClientAbandonedHandshake); !strings.Contains(m, "waited 60.0 s without an answer") {
					t.Errorf("CLIENT_ABANDONED_HANDSHAKE says %q", m)
				}
				if e := r.Verdict.Explanation; !strings.Contains(e, "never answered") || strings.Contains(e, "lost the evidence") {
					t.Errorf("explanation: %s", e)
				}
				if r.Verdict.Title != titleUnanswered {
					t.Errorf("title: %s", r.Verdict.Title)
				}
				if len(r.Verdict.Remedies) != 1 || !strings.Contains(r.Verdict.Remedies[0], "MaxConcurrentApi") {
					t.Errorf("remedies: %q", r.Verdict.Remedies)
				}
			},
		},
		{
			name: "the capture ends after the Type 3",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				ch := c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, ch, 0)
			},
			want: expect{verdict: VerdictHealthy},
			sum:  Summary{Handshakes: 1, HandshakesIncomplete: 1, Connections: 1},
		},
		{
			name: "client moves on without a Type 3",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.t1(server, "WEB01")
				c.get(1, 200)
				c.finClient()
			},
			want: expect{verdict: VerdictClient, has: []string{CodeClientAbandonedHandshake}},
			sum:  Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
		},
		{
			name: "server closes after the Type 2 and no Type 3 follows",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.t1(server, "WEB01")
				c.finServer()
				s.wait(time.Minute)
				d := s.conn(client2, "10.0.0.9:80")
				d.get(1, 200)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeConnectionClosedMidHS}},
			sum:  Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 2},
		},
		{
			name: "Type 1 answered without a Type 2",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true))
				c.resp(401, "WWW-Authenticate: NTLM")
				c.finClient()
			},
			want: expect{verdict: VerdictInconclusive, has: []string{CodeType1NotChallenged}},
			sum:  Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
			check: func(t *testing.T, r *Report) {
				// Nothing was lost: the verdict must not send the user
				// to capture again.
				if e := r.Verdict.Explanation; !strings.Contains(e, "refused NTLM") || strings.Contains(e, "lost the evidence") {
					t.Errorf("explanation: %s", e)
				}
				if r.Verdict.Title != titleRefused {
					t.Errorf("title: %s", r.Verdict.Title)
				}
				if len(r.Verdict.Remedies) != 1 || !strings.HasPrefix(r.Verdict.Remedies[0], "Find who refuses NTLM") {
					t.Errorf("remedies: %q", r.Verdict.Remedies)
				}
			},
		},
		{
			name: "idle connection after the Type 2",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.t1(server, "WEB01")
				c.endAs(reassembly.EndIdle)
			},
			want: expect{verdict: VerdictClient, has: []string{CodeClientAbandonedHandshake}},
			sum:  Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
		},
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestVerdictSnaplen: no NTLM in a capture whose snapshot length cut the
// headers of HTTP segments short is no proof of none: the headers may be in
// the cut bytes. A cut body (the parser kept its place) hides nothing.
func TestVerdictSnaplen(t *testing.T) {
	for _, tc := range []struct {
		name                string
		truncated, httpErrs int
		want                string
	}{
		{"nothing cut", 0, 0, VerdictNoNTLM},
		{"headers cut", 5, 1, VerdictInconclusive},
		{"a body cut", 5, 0, VerdictNoNTLM},
	} {
		s := newScript(t)
		c := s.conn(client1, vip)
		c.get(1, 401)
		c.c.Truncated, c.c.HTTPErrors = tc.truncated, tc.httpErrs
		c.finClient()
		r := s.finish()
		if r.Verdict.Code != tc.want {
			t.Errorf("%s: verdict %s, want %s", tc.name, r.Verdict.Code, tc.want)
		}
		cut := tc.want == VerdictInconclusive
		if got := strings.Contains(r.Verdict.Explanation, "cut 5 TCP segment(s)"); got != cut {
			t.Errorf("%s: explanation %q", tc.name, r.Verdict.Explanation)
		}
		if cut && (len(r.Verdict.Remedies) != 1 || !strings.HasPrefix(r.Verdict.Remedies[0], "Capture whole packets")) {
			t.Errorf("%s: remedies %q", tc.name, r.Verdict.Remedies)
		}
		if cut && r.Verdict.Title != titleCut {
			t.Errorf("%s: title %q", tc.name, r.Verdict.Title)
		}
	}
}
