package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestNDJSONRecords: one JSON object per line, each with a type; a split
// handshake is one record; the summary comes last; connection records
// carry handshake ids instead of handshake objects.
func TestNDJSONRecords(t *testing.T) {
	out := render(t, "ndjson", Options{}, balancerReport())
	counts := map[string]int{}
	var last map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if !strings.HasPrefix(sc.Text(), `{"type":"`) {
			t.Errorf("type is not the first member: %s", sc.Text())
		}
		typ, _ := rec["type"].(string)
		counts[typ]++
		if typ == RecordConnection {
			if _, ok := rec["handshakes"]; ok {
				t.Errorf("connection record carries handshake objects: %s", sc.Text())
			}
			if _, ok := rec["handshake_ids"]; !ok {
				t.Errorf("connection record without handshake_ids: %s", sc.Text())
			}
			if _, ok := rec["exchanges"]; ok {
				t.Errorf("connection record carries exchanges")
			}
		}
		last = rec
	}
	want := map[string]int{RecordConnection: 4, RecordHandshake: 4, RecordFinding: 5, RecordUser: 2, RecordSummary: 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d %s records, want %d", counts[k], k, n)
		}
	}
	if last["type"] != RecordSummary || last["verdict"].(map[string]any)["code"] != "balancer-breaks-ntlm" {
		t.Errorf("last record: %v", last)
	}
}

// TestNDJSONWriterStreams drives the writer record by record, as the live
// capture does, with anonymization: names stay consistent across records
// and the query is dropped.
func TestNDJSONWriterStreams(t *testing.T) {
	r := balancerReport()
	var buf bytes.Buffer
	w := NewNDJSONWriter(&buf, Options{Anonymize: true, AnonymizeKey: []byte("k")})
	for _, c := range r.Connections {
		if err := w.Connection(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Handshake(r.Connections[1].Handshakes[0]); err != nil { // already written with connection 0
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if err := w.Finding(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Summary(r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, `"type":"handshake"`); n != 4 {
		t.Errorf("%d handshake records, want 4 (a handshake is written once)", n)
	}
	for _, s := range []string{"alice", "bob", "web01", "10.0.0.5", "Q-SECRET"} {
		if strings.Contains(out, s) {
			t.Errorf("%q is in the anonymized stream", s)
		}
	}
	// The same user has the same pseudonym in the handshake record and in
	// the finding's message.
	a := newAnonymizer([]byte("k"))
	alice := a.name(`CORP\alice`)
	aliceJSON, _ := json.Marshal(alice)
	if strings.Count(out, string(aliceJSON[1:len(aliceJSON)-1])) < 3 {
		t.Errorf("alice's pseudonym %s is not used consistently:\n%s", alice, out)
	}
	if r.Users[0].Name != `CORP\alice` || r.Connections[0].Exchanges[0].Target != "/app/?session=Q-SECRET-1" {
		t.Error("the writer changed the records it was given")
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

var errWrite = errors.New("write failed")

// TestNDJSONWriterKeepsFirstError: after a failed write every method
// returns the error, so a streaming caller notices once and stops.
func TestNDJSONWriterKeepsFirstError(t *testing.T) {
	w := NewNDJSONWriter(failingWriter{}, Options{})
	r := balancerReport()
	if err := w.Finding(r.Findings[0]); err != errWrite {
		t.Fatalf("got %v", err)
	}
	if err := w.User(r.Users[0]); err != errWrite {
		t.Fatalf("after an error: got %v", err)
	}
}
