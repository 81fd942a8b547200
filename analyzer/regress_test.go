package analyzer

import (
	"testing"
)

// Regression scenarios from the lab (internal/lab, whose backends' logs are
// the truth) and from the synthetic generator's expectations, replayed as
// scripted events.

// poolT1 sends a Type 1 on u for the real client xff and answers it with a
// Type 2 from backend; it returns the challenge and the Type 2's frame.
func poolT1(s *script, u *tconn, backend, xff string) (*challenge, int64) {
	u.req("GET", "/app", server.cred(type1(), true), xff)
	ch := s.newChallenge(backend)
	return ch, u.resp(401, server.chal(ch.token)).Frame
}

// poolT3 sends user's Type 3 answering ch on u for xff, refused; it returns
// the Type 3's frame.
func poolT3(s *script, u *tconn, user string, ch *challenge, xff string) int64 {
	f := u.req("GET", "/app", server.cred(s.type3(user, ch, t3opts{}), false), xff).Frame
	u.resp(401, "WWW-Authenticate: NTLM")
	return f
}

// playPooledUpstream replays the upstream leg of lab scenario 4: nginx with
// upstream keepalive keeps three backend connections and sends alice's and
// bob's requests (X-Forwarded-For names them) to whichever is idle, so
// every Type 3 lands on another connection than its Type 2, often one that
// carried the other user's Type 2 last. want maps each Type 3's frame to the
// frame of the Type 2 it echoes.
func playPooledUpstream(s *script, want map[int64]int64) {
	const alice, bob = "X-Forwarded-For: 192.168.1.10", "X-Forwarded-For: 192.168.1.11"
	p := []*tconn{s.conn(balancerIP+":40000", web01), s.conn(balancerIP+":40001", web02), s.conn(balancerIP+":40002", "10.0.1.13:80")}
	p[0].anon(server, alice)
	p[1].anon(server, bob)
	// Round r: alice's Type 1 on p[a], bob's on p[b]; alice's Type 3 on
	// p[a+2], bob's on p[b+2] (mod 3), as in the lab's capture.
	for r, ids := range [][2]string{{"WEB03", "WEB01"}, {"WEB01", "WEB02"}, {"WEB02", "WEB03"}} {
		a, b := (2+r)%3, r%3
		cha, fa := poolT1(s, p[a], ids[0], alice)
		chb, fb := poolT1(s, p[b], ids[1], bob)
		want[poolT3(s, p[(a+2)%3], `LAB\alice`, cha, alice)] = fa
		want[poolT3(s, p[(b+2)%3], `LAB\bob`, chb, bob)] = fb
	}
	p[2].finClient() // nginx shuts down: not a client abandoning anything
	p[1].finClient()
	p[0].finClient()
}

// playNewConnPerLeg replays lab scenario 7: a client that opens a new
// connection for every request, through haproxy in TCP mode, which relays
// each client connection to one backend connection (round robin). legs
// selects what the capture holds: "client", "upstream" or "both".
func playNewConnPerLeg(s *script, legs string) {
	port := 0
	// pair opens a client connection and the upstream connection haproxy
	// relays it to; either is nil when its leg is not captured.
	pair := func(backend string) (*tconn, *tconn) {
		port++
		var cl, up *tconn
		if legs != "upstream" {
			cl = s.conn("10.0.0.5:5000"+itoa(port), vip)
		}
		if legs != "client" {
			up = s.conn(balancerIP+":4000"+itoa(port), backend)
		}
		return cl, up
	}
	both := func(cl, up *tconn) []*tconn {
		var out []*tconn
		for _, c := range []*tconn{cl, up} {
			if c != nil {
				out = append(out, c)
			}
		}
		return out
	}
	closeAll := func(cs []*tconn) {
		for _, c := range cs {
			c.finClient()
		}
	}
	for i := 0; i < 2; i++ {
		c := both(pair(web02))
		relay("GET", "/app", "", c...)
		relayBack(401, []string{"WWW-Authenticate: NTLM"}, c...)
		closeAll(c)
		c = both(pair(web01))
		relay("GET", "/app", server.cred(type1(), true), c...)
		ch := s.newChallenge("WEB01")
		relayBack(401, []string{server.chal(ch.token)}, c...)
		closeAll(c)
		c = both(pair(web02))
		relay("GET", "/app", server.cred(s.type3(`LAB\alice`, ch, t3opts{}), false), c...)
		relayBack(401, []string{"WWW-Authenticate: NTLM"}, c...)
		closeAll(c)
	}
}

func TestRegressions(t *testing.T) { runCases(t, regressionCases()) }

// regressionCases are the scenarios of TestRegressions.
func regressionCases() []outcomeCase {
	pooled := map[int64]int64{}
	newConn := func(legs string) outcomeCase {
		sum := Summary{Handshakes: 2, HandshakesFailed: 2, HandshakesSplit: 2, Connections: 6}
		switch legs {
		case "upstream":
			sum.Connections = 6
		case "both":
			sum.UpstreamConnections = 6
		}
		return outcomeCase{
			name: "lab scenario 7: client opens a new connection per leg, haproxy mode tcp, " + legs + " leg",
			play: func(s *script) { playNewConnPerLeg(s, legs) },
			want: expect{verdict: VerdictClient, has: []string{CodeClientClosedMidHS, CodeType3WithoutChallenge},
				hasNot: []string{CodeType3RoutedToOtherBackend, CodeChallengeServerChanged, CodeInterleavedHandshakes,
					CodeConnectionClosedMidHS},
				causes: map[string]int{CauseClient: 2, CauseBalancer: 0}},
			sum: sum,
		}
	}
	return []outcomeCase{
		newConn("client"),
		newConn("upstream"),
		newConn("both"),
		{
			name: "lab scenario 4: nginx upstream keepalive, upstream leg alone",
			play: func(s *script) { playPooledUpstream(s, pooled) },
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3RoutedToOtherBackend, CodeClientIsProxy},
				hasNot: []string{CodeClientAbandonedHandshake, CodeAuthFailed},
				causes: map[string]int{CauseBalancer: 6, CauseClient: 0, CauseUnknown: 0}},
			sum: Summary{Handshakes: 6, HandshakesFailed: 6, HandshakesSplit: 6, Connections: 3},
			check: func(t *testing.T, r *Report) {
				if got := userNames(r); len(got) != 2 {
					t.Errorf("users = %v, want LAB\\alice and LAB\\bob only", got)
				}
				for _, name := range []string{`LAB\alice`, `LAB\bob`} {
					if u := findUser(t, r, name); u.Handshakes != 3 || u.Failed != 3 || len(u.Clients) != 1 {
						t.Errorf("user = %+v", u)
					}
				}
				seen := 0
				for _, c := range r.Connections {
					for _, h := range c.Handshakes {
						if want, ok := pooled[h.Frames.Type3]; !ok || h.Frames.Type2 != want {
							t.Errorf("handshake %d: Type 3 frame %d paired with Type 2 frame %d, want %d",
								h.ID, h.Frames.Type3, h.Frames.Type2, want)
						}
						seen++
					}
				}
				if seen != 12 { // each split handshake is listed on its two connections
					t.Errorf("%d handshake entries, want 12", seen)
				}
			},
		},
		{
			name: "a Type 3 crossed to a record whose own Type 3 answers an unseen challenge: not rematched",
			play: func(s *script) {
				u1 := s.conn(balancerIP+":40000", web01)
				u2 := s.conn(balancerIP+":40001", web02)
				cha := u1.t1(server, "WEB01")
				u2.t1(server, "WEB02")
				u2.t3(server, `CORP\alice`, cha, 401)
				u1.t3(server, `CORP\bob`, s.newChallenge("WEB09"), 401)
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeType3RoutedToOtherBackend},
				hasNot: []string{CodeType3WithoutChallenge, CodeClientAbandonedHandshake}},
			sum: Summary{Handshakes: 2, HandshakesFailed: 2, Connections: 2},
		},
		{
			name: "client closes after the Type 2, no Type 3 anywhere: abandoned, not a split",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.t1(server, "WEB01")
				c.finClient()
				s.conn(client2, vip).get(1, 200)
			},
			want: expect{verdict: VerdictClient, has: []string{CodeClientAbandonedHandshake},
				hasNot: []string{CodeClientClosedMidHS, CodeType3WithoutChallenge, CodeConnectionClosedMidHS},
				causes: map[string]int{CauseClient: 1}},
			sum: Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 2},
			check: func(t *testing.T, r *Report) {
				if h := r.Connections[0].Handshakes[0]; h.Evidence != CodeClientAbandonedHandshake {
					t.Errorf("evidence = %s", h.Evidence)
				}
			},
		},
		{
			name: "client asks to close with its Type 1 and never answers: abandoned",
			play: func(s *script) {
				c := s.conn(client1, vip)
				c.anon(server)
				c.t1(server, "WEB01", "Connection: close")
				c.finServer()
			},
			want: expect{verdict: VerdictClient, has: []string{CodeClientAbandonedHandshake},
				hasNot: []string{CodeClientClosedMidHS, CodeConnectionClosedMidHS}},
			sum: Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
		},
		{
			name: "a proxy client closes after the Type 2: abandoned, the path's",
			play: func(s *script) {
				c := s.conn(balancerIP+":40000", web01)
				c.anon(server, "X-Forwarded-For: 192.168.1.10")
				c.t1(server, "WEB01", "X-Forwarded-For: 192.168.1.10")
				c.finClient()
			},
			want: expect{verdict: VerdictBalancer, has: []string{CodeClientAbandonedHandshake, CodeClientIsProxy},
				hasNot: []string{CodeClientClosedMidHS}, causes: map[string]int{CauseBalancer: 1}},
			sum: Summary{Handshakes: 1, HandshakesAbandoned: 1, Connections: 1},
		},
	}
}
