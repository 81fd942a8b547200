package analyzer

import (
	"testing"
	"unsafe"
)

// TestExchangesKept checks what a closed connection keeps of its exchanges:
// the first maxHealthyExchanges of a healthy authenticated connection, up
// to maxExchanges of one with a failure, none of one without
// authentication (the report draws none for it).
func TestExchangesKept(t *testing.T) {
	for _, tc := range []struct {
		name          string
		play          func(s *script)
		kept, omitted int
	}{
		{"healthy: the handshake and the first authenticated requests", func(s *script) {
			c := s.conn(client1, vip)
			c.login(server, "WEB01", `CORP\alice`, 200)
			c.get(50, 200)
			c.finClient()
		}, maxHealthyExchanges, 53 - maxHealthyExchanges},
		{"a failed handshake keeps them all", func(s *script) {
			c := s.conn(client1, vip)
			c.login(server, "WEB01", `CORP\alice`, 401)
			c.login(server, "WEB01", `CORP\alice`, 200)
			c.get(50, 200)
			c.finClient()
		}, 56, 0},
		{"beyond maxExchanges", func(s *script) {
			c := s.conn(client1, vip)
			c.login(server, "WEB01", `CORP\alice`, 401)
			c.get(maxExchanges, 200)
			c.finClient()
		}, maxExchanges, 3},
		{"no authentication: none", func(s *script) {
			c := s.conn(client1, vip)
			c.get(maxExchanges+50, 200)
			c.finClient()
		}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			tc.play(s)
			c := s.finish().Connections[0]
			if len(c.Exchanges) != tc.kept || c.ExchangesOmitted != tc.omitted {
				t.Errorf("exchanges %d, omitted %d; want %d, %d", len(c.Exchanges), c.ExchangesOmitted, tc.kept, tc.omitted)
			}
		})
	}
}

// TestClosedConnectionKeepsNoMessage checks that a closed connection drops
// its live state and that the strings it keeps do not share the messages'
// header blocks (which would keep every block alive until Finish).
func TestClosedConnectionKeepsNoMessage(t *testing.T) {
	s := newScript(t)
	c := s.conn("10.0.0.100:40000", web01)
	xff := "X-Forwarded-For: _hidden-client" // an obfuscated node: kept as sent, not reformatted
	c.anon(server, xff)
	ch := c.t1(server, "WEB01", xff)
	m := c.req("GET", "/app/"+itoa(42), server.cred(s.type3(`CORP\alice`, ch, t3opts{}), false), xff)
	c.resp(200)
	c.finClient()
	cs := s.a.all[0]
	if cs.live != nil {
		t.Fatal("live state kept after close")
	}
	shares := func(kept, from string) bool {
		return len(kept) > 0 && len(from) > 0 && unsafe.StringData(kept) == unsafe.StringData(from)
	}
	for e := range cs.eachExchange(s.a.in.hashes) {
		if shares(s.a.in.lines[e.line].target, m.Target) {
			t.Errorf("exchange target shares the message's header block")
		}
	}
	for _, rc := range cs.rare().realClients {
		if shares(rc, m.Get("X-Forwarded-For")) {
			t.Errorf("real client %q shares the message's header block", rc)
		}
	}
	if h := cs.hs[len(cs.hs)-1]; shares(h.t3client, m.Get("X-Forwarded-For")) {
		t.Errorf("handshake client shares the message's header block")
	}
}
