package analyzer

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// TestTLSWithoutKeys: HTTPS nobody could look inside is counted, and
// when no NTLM was seen the verdict is inconclusive and says how to get a
// key log, never no-ntlm.
func TestTLSWithoutKeys(t *testing.T) {
	a := New(Options{})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 3; i++ {
		c := &reassembly.Conn{ID: i, Stream: i, Client: netip.MustParseAddrPort("10.0.0.1:5000" + string(rune('0'+i))),
			Server: netip.MustParseAddrPort("10.0.0.2:443"), SawSYN: true, Start: t0, End: t0,
			Protocol: reassembly.ProtoTLS, Ended: reassembly.EndFIN}
		if i == 2 {
			c.Protocol, c.Decrypted, c.TLS = reassembly.ProtoHTTP1, true, &reassembly.TLSInfo{}
		}
		a.ConnectionClosed(c)
	}
	rep := a.Finish(reassembly.SourceStats{})
	if s := rep.Source; s.TLSConnections != 3 || s.TLSWithoutKeys != 2 || s.TLSDecrypted != 1 {
		t.Errorf("tls_connections %d, without keys %d, decrypted %d; want 3, 2, 1", s.TLSConnections, s.TLSWithoutKeys, s.TLSDecrypted)
	}
	if rep.Verdict.Code != VerdictInconclusive || len(rep.Verdict.Remedies) == 0 || !strings.Contains(rep.Verdict.Remedies[0], "--keylog") {
		t.Errorf("verdict %q, remedies %q", rep.Verdict.Code, rep.Verdict.Remedies)
	}
}
