package lab

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// TestHTTPSScenarioMirrorsPlaintext pins issue 9's "done when": the HTTPS
// scenario expects, view for view, what its plaintext twin expects, so a
// green lab run means the key log changed nothing in ntlmscope's answer.
func TestHTTPSScenarioMirrorsPlaintext(t *testing.T) {
	byNumber := map[int]*Scenario{}
	for _, s := range Scenarios() {
		byNumber[s.Number] = s
	}
	plain, https := byNumber[3], byNumber[10]
	if plain == nil || https == nil {
		t.Fatal("scenarios 3 and 10 must both exist")
	}
	if !https.TLS() || plain.TLS() {
		t.Fatalf("scenario 10 must be HTTPS (%s), scenario 3 plaintext (%s)", https.Topology, plain.Topology)
	}
	if !reflect.DeepEqual(https.Expect, plain.Expect) || https.Backends != plain.Backends ||
		!reflect.DeepEqual(https.Type3Results, plain.Type3Results) {
		t.Errorf("scenario 10 must expect what scenario 3 does:\n 3: %+v\n10: %+v", plain.Expect, https.Expect)
	}
}

// clientFile is the index of the client leg's capture in every view that
// reads it (FilesFor puts it first).
const clientFile = 0

// checkDecrypted checks one view of an HTTPS scenario, analysed with the
// clients' key log (viewKeyLogs): every connection it can open was
// decrypted (the client leg's; the upstream leg's too when the proxy
// relays the clients' TLS to HTTPS backends), the client leg carried the
// handshakes, and nothing else was TLS.
func checkDecrypted(t *testing.T, s *Scenario, v View, a analysis) {
	t.Helper()
	st := a.stats
	if st.TLS != 0 || st.TLSWithoutKeys != 0 || st.TLSBadKeys != 0 || st.TLSUnsupported != 0 ||
		st.TLSFailedRecords != 0 || st.TLSStopped != 0 {
		t.Errorf("TLS not all decrypted: %d undecrypted, %d without keys, %d bad keys, %d unsupported, "+
			"%d failed records, %d stopped directions",
			st.TLS, st.TLSWithoutKeys, st.TLSBadKeys, st.TLSUnsupported, st.TLSFailedRecords, st.TLSStopped)
	}
	if got := int64(len(a.decrypted)); got != st.TLSDecrypted {
		t.Errorf("%d connections decrypted, the reassembler counts %d", got, st.TLSDecrypted)
	}
	handshakes := 0
	for _, c := range a.rep.Connections {
		onClientLeg := v != ViewUpstream && c.File == clientFile
		want := onClientLeg || s.BackendTLS
		p, got := a.decrypted[connKey{c.File, c.TCPStream}]
		if got != want {
			t.Errorf("connection %d (file %d stream %d, %s→%s): decrypted %v, want %v",
				c.ID, c.File, c.TCPStream, c.Client, c.Server, got, want)
		} else if got {
			t.Logf("connection %d decrypted: %v", c.ID, p)
		}
		checkDecryptedField(t, c, want)
		if onClientLeg {
			handshakes += len(c.Handshakes)
		}
	}
	if v != ViewUpstream && handshakes == 0 {
		t.Error("no NTLM handshake on the decrypted client leg")
	}
	if v == ViewUpstream && !s.BackendTLS && st.TLSDecrypted != 0 {
		t.Errorf("%d connections decrypted on the plaintext upstream leg", st.TLSDecrypted)
	}
}

// checkDecryptedField checks the report's own word on decryption, should
// the model carry one: analyzer.Connection has no such field yet, so it
// is looked up in the JSON, where a later "decrypted" would appear.
func checkDecryptedField(t *testing.T, c analyzer.Connection, want bool) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	if got, ok := fields["decrypted"]; ok && got != want {
		t.Errorf("connection %d: report says decrypted %v, want %v", c.ID, got, want)
	}
}

// checkWithoutKeyLog analyses an HTTPS scenario's captures without the
// key log: each view says what WithoutKeyLog expects, no connection of the
// client leg is decrypted, its TLS connections are counted as ones
// without keys, and both legs count the TLS of each leg alone.
func checkWithoutKeyLog(t *testing.T, s *Scenario, files func(View) []string) {
	client := analyzeTLS(t, files(ViewClient), nil)
	rep := client.rep
	checkReport(t, rep, s.WithoutKeyLog[ViewClient])
	if len(client.decrypted) != 0 {
		t.Errorf("client leg without key log: %d connections decrypted", len(client.decrypted))
	}
	if src := rep.Source; src.TLSConnections < 1 || src.TLSWithoutKeys != src.TLSConnections || src.TLSDecrypted != 0 {
		t.Errorf("client leg without key log: %d TLS connections, %d without keys, %d decrypted; want ≥ 1, all, 0",
			src.TLSConnections, src.TLSWithoutKeys, src.TLSDecrypted)
	}
	if got, want := rep.Source.TLSConnections, client.stats.TLS+client.tlsTunnels; got != want {
		t.Errorf("client leg without key log: report counts %d TLS connections, the reassembler %d (%d in tunnels)",
			got, want, client.tlsTunnels)
	}
	if rep.Verdict.Code == verdictBalancer {
		t.Errorf("client leg without key log: verdict %s, from traffic it could not read", rep.Verdict.Code)
	}
	t.Logf("client leg without key log:\n%s", describe(rep))

	both := analyze(t, files(ViewBoth))
	checkReport(t, both, s.WithoutKeyLog[ViewBoth])
	upstream := analyze(t, files(ViewUpstream))
	checkReport(t, upstream, s.WithoutKeyLog[ViewUpstream])
	if !s.BackendTLS && upstream.Source.TLSConnections != 0 {
		t.Errorf("plaintext upstream leg: %d TLS connections", upstream.Source.TLSConnections)
	}
	if got, want := both.Source.TLSConnections, rep.Source.TLSConnections+upstream.Source.TLSConnections; got != want {
		t.Errorf("both legs without key log: %d TLS connections; the client leg alone has %d, the upstream leg %d",
			got, rep.Source.TLSConnections, upstream.Source.TLSConnections)
	}
}
