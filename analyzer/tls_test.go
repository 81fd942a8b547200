package analyzer

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// TestTLSWithoutKeys: HTTPS nobody could look inside is counted, a
// proxy's CONNECT tunnels that carried TLS included, and when no NTLM was
// seen the verdict is inconclusive and says how to get a key log, never
// no-ntlm.
func TestTLSWithoutKeys(t *testing.T) {
	a := New(Options{})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 6; i++ {
		c := &reassembly.Conn{ID: i, Stream: i, Client: netip.MustParseAddrPort("10.0.0.1:5000" + string(rune('0'+i))),
			Server: netip.MustParseAddrPort("10.0.0.2:443"), SawSYN: true, Start: t0, End: t0,
			Protocol: reassembly.ProtoTLS, Ended: reassembly.EndFIN}
		switch i {
		case 2:
			c.Protocol, c.Decrypted, c.TLS = reassembly.ProtoHTTP1, true, &reassembly.TLSInfo{}
		case 3: // a tunnel through a proxy, TLS, no keys
			c.Protocol, c.Tunnel = reassembly.ProtoHTTP1, reassembly.ProtoTLS
		case 4: // the same, decrypted
			c.Protocol, c.Tunnel, c.Decrypted, c.TLS = reassembly.ProtoHTTP1, reassembly.ProtoTLS, true, &reassembly.TLSInfo{}
		case 5: // a plaintext tunnel is no TLS
			c.Protocol, c.Tunnel = reassembly.ProtoHTTP1, reassembly.ProtoHTTP1
		}
		a.ConnectionClosed(c)
	}
	rep := a.Finish(reassembly.SourceStats{})
	if s := rep.Source; s.TLSConnections != 5 || s.TLSWithoutKeys != 3 || s.TLSDecrypted != 2 {
		t.Errorf("tls_connections %d, without keys %d, decrypted %d; want 5, 3, 2", s.TLSConnections, s.TLSWithoutKeys, s.TLSDecrypted)
	}
	if rep.Verdict.Code != VerdictInconclusive || len(rep.Verdict.Remedies) == 0 || !strings.Contains(rep.Verdict.Remedies[0], "--keylog") {
		t.Errorf("verdict %q, remedies %q", rep.Verdict.Code, rep.Verdict.Remedies)
	}
	if rep.Verdict.Title != titleTLS {
		t.Errorf("title %q", rep.Verdict.Title)
	}
}

// TestHealthyBesideUnreadTLS: a healthy login beside more HTTPS than HTTP
// that nobody could look inside is not called NTLM working without saying
// where.
func TestHealthyBesideUnreadTLS(t *testing.T) {
	for _, tlsConns := range []int{0, 2} {
		s := newScript(t)
		c := s.conn(client1, vip)
		c.anon(server)
		ch := c.t1(server, "WEB01")
		c.t3(server, `CORP\alice`, ch, 200)
		c.finClient()
		for i := range tlsConns {
			tc := s.conn(fmt.Sprintf("10.0.0.7:%d", 40000+i), "10.0.0.100:443", func(c *reassembly.Conn) { c.Protocol = reassembly.ProtoTLS })
			tc.finClient()
		}
		r := s.finish()
		want := VerdictTitles[VerdictHealthy]
		if tlsConns > 0 {
			want = titleHealthyTLS
		}
		if r.Verdict.Code != VerdictHealthy || r.Verdict.Title != want {
			t.Errorf("%d TLS connections: verdict %s, title %q; want healthy, %q", tlsConns, r.Verdict.Code, r.Verdict.Title, want)
		}
	}
}
