package analyzer

import (
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// splitCheck asserts one split handshake listed on both connections.
func splitCheck(outcome string) func(t *testing.T, r *Report) {
	return func(t *testing.T, r *Report) {
		t.Helper()
		if len(r.Connections) < 2 {
			t.Fatalf("connections = %d", len(r.Connections))
		}
		a, b := r.Connections[0], r.Connections[1]
		if len(a.Handshakes) != 1 || len(b.Handshakes) != 1 {
			t.Fatalf("handshakes per connection = %d, %d", len(a.Handshakes), len(b.Handshakes))
		}
		h := a.Handshakes[0]
		if h.ID != b.Handshakes[0].ID || len(h.Connections) != 2 || h.Outcome != outcome {
			t.Errorf("split handshake = %+v / %+v", h, b.Handshakes[0])
		}
		if h.Frames.Type1 == 0 || h.Frames.Type2 == 0 || h.Frames.Type3 == 0 {
			t.Errorf("frames = %+v", h.Frames)
		}
	}
}

// playSentAgain plays a handshake whose Type 3 goes unanswered on its
// connection, which end then ends, and is sent again, byte for byte, on a
// new one, where it gets a 401.
func playSentAgain(end func(*tconn)) func(*script) {
	return func(s *script) {
		a := s.conn(client1, vip)
		a.anon(server)
		ch := a.t1(server, "WEB01")
		t3 := server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false)
		a.req("GET", "/app", t3)
		end(a)
		b := s.conn(client2, vip)
		b.req("GET", "/app", t3)
		b.resp(401, server.offer())
		b.finClient()
	}
}

// playLateType3 plays a handshake whose server side closes after the Type 2
// and whose Type 3 (with o) comes on a new connection after wait.
func playLateType3(wait time.Duration, o t3opts) func(*script) {
	return func(s *script) {
		a := s.conn(client1, vip)
		a.anon(server)
		ch := a.t1(server, "WEB01")
		a.finServer()
		s.wait(wait)
		b := s.conn(client2, vip)
		b.t3(server, `CORP\alice`, ch, 401, o)
		b.finClient()
	}
}

// resentCheck asserts a split handshake whose Type 3 was sent twice: its
// frames are the second Type 3's and its answer, and the messages say the
// Type 3 was sent again.
func resentCheck(t *testing.T, r *Report) {
	t.Helper()
	splitCheck(OutcomeFailed)(t, r)
	h := r.Connections[0].Handshakes[0]
	if h.Frames.Type3 <= h.Frames.Type2+1 || h.Frames.Final != h.Frames.Type3+1 {
		t.Errorf("frames = %+v, want the second Type 3 and its answer", h.Frames)
	}
	for _, f := range r.Findings {
		if (f.Code == CodeConnectionClosedMidHS || f.Code == CodeClientClosedMidHS) && !strings.Contains(f.Message, "again") {
			t.Errorf("%s: %q does not say the Type 3 was sent again", f.Code, f.Message)
		}
	}
}

func TestCorrelation(t *testing.T) { runCases(t, correlationCases()) }

// correlationCases are the scenarios of TestCorrelation.
func correlationCases() []outcomeCase {
	return []outcomeCase{
		{
			name: "split: server side closes after the Type 2",
			play: func(s *script) {
				a := s.conn(client1, vip)
				a.anon(server)
				ch := a.t1(server, "WEB01")
				a.finServer()
				b := s.conn(client2, vip)
				b.t3(server, `CORP\alice`, ch, 401)
				b.finClient()
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3WithoutChallenge, CodeConnectionClosedMidHS},
				hasNot: []string{CodeClientClosedMidHS, CodeAuthFailed, CodeClientAbandonedHandshake},
				causes: map[string]int{CauseBalancer: 1}},
			sum:   Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2},
			check: splitCheck(OutcomeFailed),
		},
		{
			name: "split: Type 2 response says Connection: close",
			play: func(s *script) {
				ch := closedAfterType2(s, server, vip, "/app", "WEB01", "Connection: close", (*tconn).finServer)
				b := s.conn(client2, vip)
				b.t3(server, `CORP\alice`, ch, 401)
			},
			want:  expect{verdict: VerdictBalancer, has: []string{CodeType3WithoutChallenge, CodeConnectionClosedMidHS}},
			sum:   Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2},
			check: splitCheck(OutcomeFailed),
		},
		{
			// Some proxies answer with Proxy-Connection: close, which
			// browsers and curl obey as they obey Connection: close: the
			// client's close follows the proxy's word, and the proxy broke
			// the handshake.
			name: "split: a 407 with the Type 2 says Proxy-Connection: close",
			play: func(s *script) {
				ch := closedAfterType2(s, proxyA, "10.0.0.3:3128", "http://intranet/", "SQUID", "Proxy-Connection: close",
					(*tconn).finClient)
				b := s.conn(client2, "10.0.0.3:3128")
				b.t3(proxyA, `CORP\alice`, ch, 407)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3WithoutChallenge, CodeConnectionClosedMidHS},
				hasNot: []string{CodeClientClosedMidHS}, causes: map[string]int{CauseBalancer: 1}},
			sum:   Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2},
			check: splitCheck(OutcomeFailed),
		},
		{
			name: "split: client opens a new connection while the first is open",
			play: func(s *script) {
				a := s.conn(client1, vip)
				a.anon(server)
				ch := a.t1(server, "WEB01")
				b := s.conn(client2, vip)
				b.t3(server, `CORP\alice`, ch, 401)
				b.finClient()
				a.finClient()
			},
			want: expect{verdict: VerdictClient, has: []string{CodeType3WithoutChallenge, CodeClientClosedMidHS},
				hasNot: []string{CodeConnectionClosedMidHS}, causes: map[string]int{CauseClient: 1, CauseBalancer: 0}},
			sum:   Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2},
			check: splitCheck(OutcomeFailed),
		},
		{
			name: "split: client sends Connection: close with its Type 1",
			play: func(s *script) {
				a := s.conn(client1, vip)
				a.anon(server)
				ch := a.t1(server, "WEB01", "Connection: close")
				a.finServer()
				b := s.conn(client2, vip)
				b.t3(server, `CORP\alice`, ch, 401)
			},
			want: expect{verdict: VerdictClient, has: []string{CodeClientClosedMidHS}, hasNot: []string{CodeConnectionClosedMidHS}},
			sum:  Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2},
		},
		{
			// A balancer that lost its backend connection (haproxy's
			// timeout, a reset) after the Type 3 went out: the client sends
			// the request again, the same Type 3 byte for byte, on a new
			// connection, where no backend knows the challenge. One
			// handshake, split, not an unanswered one plus a Type 3 without
			// a challenge. Seen in the lab's lossy runs, on both legs.
			name: "split: the same Type 3 sent again after the server side ended the connection unanswered",
			play: playSentAgain((*tconn).rstServer),
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3WithoutChallenge, CodeConnectionClosedMidHS},
				hasNot: []string{CodeClientClosedMidHS, CodeAuthFailed}, causes: map[string]int{CauseBalancer: 1}},
			sum:   Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2},
			check: resentCheck,
		},
		{
			name: "split: the same Type 3 sent again after the client ended the connection unanswered",
			play: playSentAgain((*tconn).finClient),
			want: expect{verdict: VerdictClient, has: []string{CodeType3WithoutChallenge, CodeClientClosedMidHS},
				hasNot: []string{CodeConnectionClosedMidHS}, causes: map[string]int{CauseClient: 1}},
			sum:   Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2},
			check: resentCheck,
		},
		{
			// An exact echo of the Type 2's identity and timestamp is
			// proof however late: retransmissions on a lossy path held a
			// Type 3 up for 15 s in the lab.
			name:  "split: the Type 3 echoes its Type 2 exactly, 15 s later",
			play:  playLateType3(15*time.Second, t3opts{}),
			want:  expect{verdict: VerdictBalancer, has: []string{CodeType3WithoutChallenge, CodeConnectionClosedMidHS}},
			sum:   Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2},
			check: splitCheck(OutcomeFailed),
		},
		{
			// Without an echo (NTLMv1) the halves are a guess, which the
			// link window bounds.
			name: "no split: an NTLMv1 Type 3 15 s after the Type 2 of another connection",
			play: playLateType3(15*time.Second, t3opts{kind: ntlm.ResponseNTLMv1}),
			want: expect{has: []string{CodeType3WithoutChallenge}},
			sum:  Summary{Handshakes: 2, HandshakesFailed: 1, HandshakesAbandoned: 1, HandshakesSplit: 0, Connections: 2},
		},
		{
			// The split came first (the Type 2's response closed its
			// connection); the copy sent again is noted, and all three
			// connections carry the handshake.
			name: "split: the Type 3 sent again from a third connection after a Connection: close split",
			play: func(s *script) {
				ch := closedAfterType2(s, server, vip, "/app", "WEB01", "Connection: close", (*tconn).finServer)
				a := s.conn(client2, vip)
				t3 := server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false)
				a.req("GET", "/app", t3)
				a.finClient()
				b := s.conn("10.0.0.5:50002", vip)
				b.req("GET", "/app", t3)
				b.resp(401, server.offer())
				b.finClient()
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3WithoutChallenge, CodeConnectionClosedMidHS},
				hasNot: []string{CodeClientClosedMidHS}, causes: map[string]int{CauseBalancer: 1}},
			sum: Summary{Handshakes: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 3},
			check: func(t *testing.T, r *Report) {
				h := r.Connections[0].Handshakes[0]
				if len(h.Connections) != 3 {
					t.Errorf("handshake connections = %v, want all three", h.Connections)
				}
				for _, f := range r.Findings {
					if f.Code != CodeConnectionClosedMidHS {
						continue
					}
					if !strings.Contains(f.Message, "after its Type 2") || !strings.Contains(f.Message, "sent again") {
						t.Errorf("%s: %q should tell the split, then the copy sent again", f.Code, f.Message)
					}
					if len(f.Connections) != 3 {
						t.Errorf("%s: connections %v, want all three", f.Code, f.Connections)
					}
				}
			},
		},
		{
			// A first copy without its Type 2 in the capture is not
			// joined: the copy sent again looks for the Type 2 itself.
			name: "no split: a Type 3 sent again whose first copy has no Type 2 in the capture",
			play: func(s *script) {
				other := s.newChallenge("WEB01") // not in the capture
				a := s.conn(client1, vip)
				t3 := server.cred(s.type3(`CORP\alice`, other, t3opts{}), false)
				a.req("GET", "/app", t3)
				a.rstServer()
				b := s.conn(client2, vip)
				b.req("GET", "/app", t3)
				b.resp(401, server.offer())
			},
			want: expect{has: []string{CodeType3WithoutChallenge}, hasNot: []string{CodeConnectionClosedMidHS, CodeClientClosedMidHS}},
			sum:  Summary{Handshakes: 2, HandshakesFailed: 1, HandshakesAbandoned: 1, HandshakesSplit: 0, Connections: 2},
		},
		{
			// An exact echo is proof, but not for ever: a server keeps
			// a challenge a few minutes.
			name: "no split: the Type 3 echoes its Type 2 exactly, 3 minutes later",
			play: playLateType3(3*time.Minute, t3opts{}),
			want: expect{has: []string{CodeType3WithoutChallenge}},
			sum:  Summary{Handshakes: 2, HandshakesFailed: 1, HandshakesAbandoned: 1, HandshakesSplit: 0, Connections: 2},
		},
		{
			name: "split that still succeeds is one success",
			play: func(s *script) {
				a := s.conn(client1, vip)
				ch := a.t1(server, "WEB01")
				a.finServer()
				b := s.conn(client2, vip)
				b.t3(server, `CORP\alice`, ch, 200)
			},
			want:  expect{verdict: VerdictHealthy, has: []string{CodeType3WithoutChallenge}},
			sum:   Summary{Handshakes: 1, HandshakesSucceeded: 1, HandshakesSplit: 1, Connections: 2},
			check: splitCheck(OutcomeSucceeded),
		},
		{
			name: "Type 3 without any challenge in the capture",
			play: func(s *script) {
				other := s.newChallenge("WEB01")
				b := s.conn(client1, vip)
				b.t3(server, `CORP\alice`, other, 401)
			},
			want: expect{verdict: VerdictInconclusive, has: []string{CodeType3WithoutChallenge}},
			sum:  Summary{Handshakes: 1, HandshakesFailed: 1, Connections: 1},
		},
		{
			name: "round robin: challenges from different backends, restarts",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				for _, be := range []string{"WEB01", "WEB02", "WEB01"} {
					ch := c.t1(server, be)
					c.t3(server, `CORP\alice`, ch, 401)
				}
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeChallengeServerChanged, CodeHandshakeRestarted},
				hasNot: []string{CodeAuthFailed}, causes: map[string]int{CauseBalancer: 3, CauseCredentials: 0}},
			sum: Summary{Handshakes: 3, HandshakesFailed: 3, Connections: 1},
			check: func(t *testing.T, r *Report) {
				if u := findUser(t, r, `CORP\alice`); u.Restarts != 2 || u.Failed != 3 {
					t.Errorf("user = %+v", u)
				}
				if len(r.Backends) != 2 {
					t.Errorf("backends = %+v", r.Backends)
				}
			},
		},
		{
			// The second handshake's Type 2 is on a, its Type 3 on b: a
			// still counts as a connection that met two backends.
			name: "split handshake's challenge from another backend than the connection's first",
			play: func(s *script) {
				a := s.conn(client1, vip)
				a.anon(server)
				ch := a.t1(server, "WEB01")
				a.t3(server, `CORP\alice`, ch, 401)
				ch = a.t1(server, "WEB02")
				a.finServer()
				b := s.conn(client2, vip)
				b.t3(server, `CORP\alice`, ch, 401)
				b.finClient()
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeChallengeServerChanged, CodeType3WithoutChallenge}},
			sum:  Summary{Handshakes: 2, HandshakesFailed: 2, HandshakesSplit: 1, Connections: 2},
			check: func(t *testing.T, r *Report) {
				a := r.Connections[0].ID
				for _, f := range r.Findings {
					if f.Code == CodeChallengeServerChanged && len(f.Connections) == 1 && f.Connections[0] == a {
						return
					}
				}
				t.Errorf("no %s finding for connection %d alone", CodeChallengeServerChanged, a)
			},
		},
		{
			// Each handshake is whole on its connection and its own
			// backend rejects the Type 3: a stale password retried on
			// new connections through a balancer that spreads them (as
			// it may). The burst met several backends, which is
			// reported, but it is no proof against the balancer.
			name: "wrong password retried on new connections reaches different backends",
			play: func(s *script) {
				for i, be := range []string{"WEB01", "WEB02", "WEB03"} {
					c := s.conn([]string{client1, client2, client3}[i], vip)
					c.anon(server)
					ch := c.t1(server, be)
					c.t3(server, `CORP\alice`, ch, 401)
					c.finClient()
					s.wait(time.Second)
				}
			},
			want: expect{verdict: VerdictCredentials, has: []string{CodeAuthFailed, CodeChallengeServerChanged, CodeHandshakeRestarted},
				causes: map[string]int{CauseCredentials: 3, CauseBalancer: 0}},
			sum:  Summary{Handshakes: 3, HandshakesFailed: 3, Connections: 3},
			says: map[string]string{CodeAuthFailed: "each of the 3 backends rejected"},
		},
		{
			// The same burst, but the user gets in between failures: the
			// same credentials fail and work, which the path explains.
			name: "retry burst on new connections fails and succeeds on different backends",
			play: func(s *script) {
				for i, be := range []string{"WEB01", "WEB02", "WEB03"} {
					c := s.conn([]string{client1, client2, client3}[i], vip)
					c.anon(server)
					ch := c.t1(server, be)
					c.t3(server, `CORP\alice`, ch, []int{401, 401, 200}[i])
					c.finClient()
					s.wait(time.Second)
				}
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeIntermittentAuthFailure}},
			sum:  Summary{Handshakes: 3, HandshakesFailed: 2, HandshakesSucceeded: 1, Connections: 3},
		},
		{
			name: "user cancels the prompt, then logs in on another backend",
			play: func(s *script) {
				a := s.conn(client1, vip)
				a.anon(server)
				a.t1(server, "WEB01")
				s.wait(time.Second)
				a.finClient()
				s.wait(2 * time.Second)
				b := s.conn(client2, vip)
				b.login(server, "WEB02", `CORP\alice`, 200)
			},
			// A healthy balancer may send each new connection elsewhere:
			// the client walked away, the path is not to blame.
			want: expect{has: []string{CodeClientAbandonedHandshake},
				causes: map[string]int{CauseClient: 1, CauseBalancer: 0}},
			sum: Summary{Handshakes: 2, HandshakesSucceeded: 1, HandshakesAbandoned: 1, Connections: 2},
		},
		{
			name: "re-authentication on an authenticated connection",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `CORP\alice`, 200)
				c.get(2, 200)
				c.anon(server)
				ch := c.t1(server, "WEB02")
				c.t3(server, `CORP\alice`, ch, 401)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeReauthOnAuthenticated, CodeChallengeServerChanged}},
			sum:  Summary{Handshakes: 2, HandshakesSucceeded: 1, HandshakesFailed: 1, Connections: 1, AuthenticatedRequests: 2},
		},
		{
			// The re-authentication's Type 3 answers a Type 2 from another
			// connection (a split), and the connection's own next Type 2
			// comes from another backend: that is the one to compare.
			name: "re-authentication: the connection's own next Type 2 decides",
			play: func(s *script) {
				b := s.conn(client1, vip)
				b.login(server, "WEB01", `CORP\alice`, 200)
				b.get(2, 200)
				b.req("GET", "/x")
				b.resp(401, server.offer(), "Content-Length: 0")
				a := s.conn(client2, vip)
				a.anon(server)
				chA := a.t1(server, "WEB01")
				b.t3(server, `CORP\alice`, chA, 401)
				chB := b.t1(server, "WEB02")
				b.t3(server, `CORP\alice`, chB, 200)
				a.finClient()
				b.finClient()
			},
			want: expect{has: []string{CodeReauthOnAuthenticated}},
			says: map[string]string{CodeReauthOnAuthenticated: "a different backend now serves"},
		},
		{
			// IIS authPersistSingleRequest without Persistent-Auth: the
			// same server asks again; no backend changed.
			name: "re-authentication by the server that authenticated the connection",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `CORP\alice`, 200)
				c.get(1, 200)
				c.anon(server)
				ch := c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, ch, 200)
			},
			want: expect{has: []string{CodeReauthOnAuthenticated}, hasNot: []string{CodeChallengeServerChanged}},
			sum:  Summary{Handshakes: 2, HandshakesSucceeded: 2, Connections: 1, AuthenticatedRequests: 1},
			check: func(t *testing.T, r *Report) {
				m := findingMessage(r, CodeReauthOnAuthenticated)
				if !strings.Contains(m, "the same server (web01.corp.example) asks again") || strings.Contains(m, "different backend") {
					t.Errorf("REAUTH_ON_AUTHENTICATED_CONNECTION says %q", m)
				}
			},
		},
		{
			name: "Type 3 echoes another backend's challenge",
			play: func(s *script) {
				c := s.conn("10.0.0.100:40000", "10.0.1.12:80")
				c.anon(server)
				c.t1(server, "WEB02")
				other := s.newChallenge("WEB01")
				c.t3(server, `CORP\alice`, other, 401)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3RoutedToOtherBackend}},
			sum:  Summary{Handshakes: 1, HandshakesFailed: 1, Connections: 1},
		},
		{
			name: "backend-naming headers differ between Type 2 and final response",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true))
				ch := c.t2(server, "WEB01", "X-Server: web01")
				c.req("GET", "/app", server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false))
				c.resp(401, "WWW-Authenticate: NTLM", "X-Server: web02")
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3RoutedToOtherBackend}},
			sum:  Summary{Handshakes: 1, HandshakesFailed: 1, Connections: 1},
		},
		{
			name: "interleaved handshakes on one connection",
			play: func(s *script) {
				c := s.conn("10.0.0.100:40000", "10.0.1.11:80")
				first := c.t1(server, "WEB01")
				c.t1(server, "WEB01")
				c.t3(server, `CORP\alice`, first, 401)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeInterleavedHandshakes}},
		},
		{
			name: "Extended Protection behind TLS offload",
			play: func(s *script) {
				c := s.conn("10.0.0.100:40000", "10.0.1.11:80")
				c.login(server, "WEB01", `CORP\alice`, 401, t3opts{cb: true})
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeEPABehindTLSOffload}, hasNot: []string{CodeAuthFailed}},
			sum:  Summary{Handshakes: 1, HandshakesFailed: 1, Connections: 1},
		},
		{
			name: "handshake per request",
			play: func(s *script) {
				for i := 0; i < 4; i++ {
					c := s.conn([]string{client1, client2, client3, "10.0.0.5:50003"}[i], vip)
					c.login(server, "WEB01", `CORP\alice`, 200)
					c.finClient()
				}
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeHandshakePerRequest}},
			sum:  Summary{Handshakes: 4, HandshakesSucceeded: 4, Connections: 4},
			says: map[string]string{CodeHandshakePerRequest: "instead of reusing an authenticated connection"},
		},
		{
			// Internet Explorer authenticates each POST anew on its
			// kept-alive connection: the connection was reused.
			name: "handshake per request on a kept connection",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `CORP\alice`, 200)
				c.get(1, 200)
				for range 3 {
					c.req("POST", "/app", server.cred(type1(), true), "Content-Length: 0")
					ch := c.t2(server, "WEB01")
					c.req("POST", "/app", server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false), "Content-Length: 300")
					c.resp(200)
				}
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeHandshakePerRequest}},
			sum:  Summary{Handshakes: 4, HandshakesSucceeded: 4, Connections: 1, AuthenticatedRequests: 1},
			says: map[string]string{CodeHandshakePerRequest: "on 1 connection(s): it kept its connections"},
		},
		{
			// A client with no credentials for the site tries an
			// anonymous logon first, then its user logs on: no password
			// was wrong.
			name: "anonymous logon refused, then the user logs on",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", "", 401)
				c.login(server, "WEB01", `CORP\alice`, 200)
			},
			want: expect{has: []string{CodeAuthFailed, CodeAnonymousNTLM}},
			sum:  Summary{Handshakes: 2, HandshakesSucceeded: 1, HandshakesFailed: 1, Connections: 1},
			check: func(t *testing.T, r *Report) {
				m := findingMessage(r, CodeAuthFailed)
				if !strings.Contains(m, "sent an anonymous Type 3 (no user)") || strings.Contains(m, "password") {
					t.Errorf("AUTH_FAILED says %q", m)
				}
			},
		},
		{
			name: "security posture: NTLMv1, anonymous, no MIC",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `CORP\old`, 200, t3opts{kind: ntlm.ResponseNTLMv1})
				d := s.conn(client2, vip)
				d.login(server, "WEB01", "", 200)
				e := s.conn(client3, vip)
				e.login(server, "WEB01", "bob@corp.example", 200, t3opts{noMIC: true})
			},
			want: expect{verdict: VerdictHealthy, has: []string{CodeNTLMv1InUse, CodeAnonymousNTLM, CodeNoMIC}},
			sum:  Summary{Handshakes: 3, HandshakesSucceeded: 3, Connections: 3},
			check: func(t *testing.T, r *Report) {
				findUser(t, r, "(anonymous)")
				findUser(t, r, "bob@corp.example")
				if u := findUser(t, r, `CORP\old`); u.Succeeded != 1 {
					t.Errorf("user = %+v", u)
				}
				if h := r.Connections[0].Handshakes[0]; h.NTLMVersion != "NTLMv1" && h.NTLMVersion != "NTLMv1-ESS" {
					t.Errorf("ntlm_version = %s", h.NTLMVersion)
				}
			},
		},
		{
			name: "users compared case-insensitively, named as first sent",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.login(server, "WEB01", `Corp\Alice`, 200)
				d := s.conn(client2, vip)
				d.login(server, "WEB01", `CORP\alice`, 200)
			},
			want: expect{verdict: VerdictHealthy},
			check: func(t *testing.T, r *Report) {
				if len(r.Users) != 1 || r.Users[0].Name != `Corp\Alice` || r.Users[0].Handshakes != 2 {
					t.Errorf("users = %+v", r.Users)
				}
			},
		},
		{
			name: "mixed causes",
			play: func(s *script) {
				a := s.conn(client1, vip)
				a.login(server, "WEB01", `CORP\alice`, 401)
				a.finClient()
				s.wait(time.Minute)
				b := s.conn("10.0.0.6:50000", vip)
				b.anon(server)
				b.t1(server, "WEB01")
				b.get(1, 200)
				s.wait(time.Minute)
				c := s.conn("10.0.0.7:50000", vip)
				c.anon(server)
				c.t1(server, "WEB01")
				c.finServer()
			},
			want: expect{verdict: VerdictMixed, causes: map[string]int{CauseCredentials: 1, CauseClient: 1, CauseBalancer: 1}},
			sum:  Summary{Handshakes: 3, HandshakesFailed: 1, HandshakesAbandoned: 2, Connections: 3},
		},
		{
			name: "two thirds of known causes decide",
			play: func(s *script) {
				for i, be := range []string{"WEB01", "WEB02"} {
					c := s.conn([]string{client1, client2}[i], vip)
					c.anon(server)
					ch := c.t1(server, be)
					c.finServer()
					d := s.conn([]string{"10.0.0.5:50010", "10.0.0.5:50011"}[i], vip)
					d.t3(server, `CORP\alice`, ch, 401)
					s.wait(time.Minute)
				}
				e := s.conn("10.0.0.8:50000", vip)
				e.login(server, "WEB01", `CORP\carol`, 401)
			},
			want: expect{verdict: VerdictBalancer, causes: map[string]int{CauseBalancer: 2, CauseCredentials: 1}},
		},
		{
			// A capture of the backend leg alone, without
			// X-Forwarded-For: every connection comes from the balancer,
			// and the Type 3 that answers WEB01's challenge reached
			// WEB02. The balancer may have moved it, or passed on its
			// client's split (mode tcp, lab scenario 7): this leg cannot
			// tell, and the finding says so rather than blame either.
			name: "backend leg alone: the Type 3 goes to another server than its Type 2",
			play: func(s *script) {
				u1 := s.conn(balancerIP+":40000", web01)
				u2 := s.conn(balancerIP+":40001", web02)
				u1.anon(server)
				ch := u1.t1(server, "WEB01")
				u2.t3(server, `CORP\alice`, ch, 401)
				ch = u2.t1(server, "WEB02")
				u2.t3(server, `CORP\alice`, ch, 200)
				u2.get(2, 200)
			},
			want: expect{has: []string{CodeClientClosedMidHS}},
			sum: Summary{Handshakes: 2, HandshakesSucceeded: 1, HandshakesFailed: 1, HandshakesSplit: 1, Connections: 2,
				AuthenticatedRequests: 2},
			check: func(t *testing.T, r *Report) {
				m := findingMessage(r, CodeClientClosedMidHS)
				if !strings.Contains(m, "the Type 3 went to another server (10.0.1.12:80) than the one that challenged it (10.0.1.11:80)") ||
					!strings.Contains(r.Verdict.Explanation, "a capture of the client leg tells") {
					t.Errorf("CLIENT_CLOSED_MID_HANDSHAKE says %q\nexplanation: %s", m, r.Verdict.Explanation)
				}
			},
		},
		{
			// A terminal server (or a NAT): several users, each on
			// connections of their own to one address. It is no proxy, so
			// its application's split stays the client's.
			name: "terminal server: one user's application splits its handshake",
			play: func(s *script) {
				a := s.conn("10.0.0.5:50000", vip)
				a.login(server, "WEB01", `CORP\alice`, 200)
				b := s.conn("10.0.0.5:50001", vip)
				b.login(server, "WEB01", `CORP\bob`, 200)
				c := s.conn("10.0.0.5:50002", vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true), "Connection: close")
				ch := c.t2(server, "WEB01")
				c.finClient()
				d := s.conn("10.0.0.5:50003", vip)
				d.t3(server, `CORP\carol`, ch, 401)
				d.finClient()
			},
			want: expect{verdict: VerdictClient, has: []string{CodeClientClosedMidHS}, hasNot: []string{CodeClientIsProxy},
				causes: map[string]int{CauseClient: 1, CauseBalancer: 0}},
		},
		{
			// One user retypes the name in another form on one
			// connection, and other users of the host reach the same
			// site on :80 and :443: no proxy.
			name: "terminal server: a user retypes the name; a site on two ports",
			play: func(s *script) {
				a := s.conn("10.0.0.5:50000", vip)
				a.login(server, "WEB01", "alice", 401)
				a.login(server, "WEB01", `CORP\alice`, 200)
				b := s.conn("10.0.0.5:50001", "10.0.0.100:443")
				b.login(server, "WEB01", `CORP\bob`, 200)
				c := s.conn("10.0.0.5:50002", vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true), "Connection: close")
				ch := c.t2(server, "WEB01")
				c.finClient()
				d := s.conn("10.0.0.5:50003", vip)
				d.t3(server, `CORP\carol`, ch, 401)
				d.finClient()
			},
			want: expect{hasNot: []string{CodeClientIsProxy}, causes: map[string]int{CauseBalancer: 0}},
		},
		{
			// One user signs in as another on the same connection (a
			// browser's prompt after an access denied), and a service of
			// the machine logs on as the machine account elsewhere: a
			// workstation, no proxy.
			name: "a workstation: another account on the same connection, a machine account",
			play: func(s *script) {
				a := s.conn("10.0.0.5:50000", vip)
				a.login(server, "WEB01", `CORP\alice`, 200)
				a.anon(server)
				ch := a.t1(server, "WEB01")
				a.t3(server, `CORP\admin`, ch, 200)
				m := s.conn("10.0.0.5:50001", "10.0.2.20:80")
				m.login(server, "SCCM01", `CORP\WS01$`, 200)
				c := s.conn("10.0.0.5:50002", vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true), "Connection: close")
				ch = c.t2(server, "WEB01")
				c.finClient()
				d := s.conn("10.0.0.5:50003", vip)
				d.t3(server, `CORP\alice`, ch, 401)
				d.finClient()
			},
			want: expect{verdict: VerdictClient, hasNot: []string{CodeClientIsProxy},
				causes: map[string]int{CauseClient: 1, CauseBalancer: 0}},
		},
		{
			// One connection carries the Type 3 messages of alice, bob and
			// alice again: only a proxy or balancer shares a connection
			// so.
			name: "one connection goes back and forth between users: the client is a proxy",
			play: func(s *script) {
				a := s.conn("10.0.0.5:50000", vip)
				a.login(server, "WEB01", `CORP\alice`, 200)
				a.anon(server)
				ch := a.t1(server, "WEB01")
				a.t3(server, `CORP\bob`, ch, 200)
				a.anon(server)
				ch = a.t1(server, "WEB01")
				a.t3(server, `CORP\alice`, ch, 200)
				c := s.conn("10.0.0.5:50002", vip)
				c.anon(server)
				c.req("GET", "/app", server.cred(type1(), true), "Connection: close")
				ch = c.t2(server, "WEB01")
				c.finClient()
				d := s.conn("10.0.0.5:50003", vip)
				d.t3(server, `CORP\carol`, ch, 401)
				d.finClient()
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeClientClosedMidHS, CodeClientIsProxy},
				causes: map[string]int{CauseClient: 0, CauseBalancer: 1}},
			says: map[string]string{CodeClientIsProxy: "carried the Type 3 messages of 3 accounts in turn on connection 0"},
		},
		{
			// The same split from a client to one virtual address is the
			// client's: it opened a new connection for the Type 3.
			name: "client leg: the Type 3 on a new connection to the same address",
			play: func(s *script) {
				a := s.conn(client1, vip)
				b := s.conn(client2, vip)
				a.anon(server)
				ch := a.t1(server, "WEB01")
				b.t3(server, `CORP\alice`, ch, 401)
			},
			want: expect{hasNot: []string{CodeClientIsProxy}, causes: map[string]int{CauseClient: 1, CauseBalancer: 0}},
			check: func(t *testing.T, r *Report) {
				if m := findingMessage(r, CodeClientClosedMidHS); !strings.HasSuffix(m, ": a client-side fault (keep the connection open for the whole handshake)") {
					t.Errorf("CLIENT_CLOSED_MID_HANDSHAKE says %q", m)
				}
			},
		},
	}
}

// closedAfterType2 opens a connection from client1 to addr and plays a bare
// request and a Type 1 for target, answered by a Type 2 from name whose
// response carries header (Connection: close, say); then end closes the
// connection. It returns the challenge, for a Type 3 elsewhere.
func closedAfterType2(s *script, a auth, addr, target, name, header string, end func(*tconn)) *challenge {
	c := s.conn(client1, addr)
	c.anon(a)
	c.req("GET", target, a.cred(type1(), true))
	ch := c.t2(a, name, header)
	end(c)
	return ch
}
