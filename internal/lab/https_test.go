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
// clients' key log: every connection of the client leg was decrypted and
// carried the handshakes, no TLS was left undecrypted or failed, and the
// plaintext upstream leg went through untouched.
func checkDecrypted(t *testing.T, v View, a analysis) {
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
		p, got := a.decrypted[connKey{c.File, c.TCPStream}]
		if got != onClientLeg {
			t.Errorf("connection %d (file %d stream %d, %s→%s): decrypted %v, want %v",
				c.ID, c.File, c.TCPStream, c.Client, c.Server, got, onClientLeg)
		} else if got {
			t.Logf("connection %d decrypted: %v", c.ID, p)
		}
		checkDecryptedField(t, c, onClientLeg)
		if onClientLeg {
			handshakes += len(c.Handshakes)
		}
	}
	if v != ViewUpstream && handshakes == 0 {
		t.Error("no NTLM handshake on the decrypted client leg")
	}
	if v == ViewUpstream && st.TLSDecrypted != 0 {
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
// key log: the client leg is TLS that ntlmscope counts but cannot read (no
// handshake, no user), and both legs together say what the plaintext
// upstream leg says alone.
func checkWithoutKeyLog(t *testing.T, s *Scenario, files func(View) []string) {
	client := analyzeTLS(t, files(ViewClient), nil)
	rep := client.rep
	if rep.Summary.Handshakes != 0 || len(rep.Users) != 0 || len(client.decrypted) != 0 {
		t.Errorf("client leg without key log: %d handshakes, %d users, %d connections decrypted; want none",
			rep.Summary.Handshakes, len(rep.Users), len(client.decrypted))
	}
	if rep.Source.TLSConnections < 1 || rep.Source.TLSConnections != client.stats.TLS {
		t.Errorf("client leg without key log: report counts %d TLS connections, the reassembler %d; want ≥ 1",
			rep.Source.TLSConnections, client.stats.TLS)
	}
	if rep.Verdict.Code == verdictBalancer {
		t.Errorf("client leg without key log: verdict %s, from traffic it could not read", rep.Verdict.Code)
	}
	t.Logf("client leg without key log:\n%s", describe(rep))

	both := analyze(t, files(ViewBoth))
	checkReport(t, both, s.Expect[ViewUpstream])
	if both.Source.TLSConnections != rep.Source.TLSConnections {
		t.Errorf("both legs without key log: %d TLS connections, the client leg alone has %d",
			both.Source.TLSConnections, rep.Source.TLSConnections)
	}
}
