package analyzer

import (
	"encoding/json"
	"testing"
)

func TestHealthyKeepAlive(t *testing.T) {
	s := newScript(t)
	c := s.conn("10.0.0.5:50000", "10.0.0.1:80")
	c.login(server, "WEB01", `CORP\alice`, 200)
	c.get(3, 200)
	c.finClient()
	r := s.finish()
	expect{verdict: VerdictHealthy, hasNot: []string{CodeHandshakeRestarted, CodeAuthFailed}}.check(t, r)
	b, _ := json.MarshalIndent(r, "", " ")
	t.Logf("%s", b)
}
