package analyzer

import (
	"testing"
)

func TestDebugPrint(t *testing.T) {
	for _, name := range []string{"interleave", "backend"} {
		s := newScript(t)
		switch name {
		case "interleave":
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
		case "backend":
			u1 := s.conn(balancerIP+":40000", web01)
			u2 := s.conn(balancerIP+":40001", web02)
			cha := u1.t1(server, "WEB01")
			chb := u2.t1(server, "WEB02")
			u2.t3(server, `CORP\alice`, cha, 401)
			u1.t3(server, `CORP\bob`, chb, 401)
		}
		r := s.finish()
		t.Logf("== %s: %s\n%s\nremedies: %q", name, r.Verdict.Code, r.Verdict.Explanation, r.Verdict.Remedies)
		for _, f := range r.Findings {
			t.Logf("finding %s %s %v %v: %s", f.Code, f.Severity, f.Connections, f.Frames, f.Message)
		}
		for _, c := range r.Connections {
			for _, h := range c.Handshakes {
				t.Logf("conn %d(%s) hs %d %s %s/%s %s frames %+v conns %v route %v", c.ID, c.Leg, h.ID, h.User, h.Outcome, h.Cause, h.Evidence, h.Frames, h.Connections, h.Route)
			}
		}
	}
}
