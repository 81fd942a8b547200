package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// liveSnapshot is what a capture's snapshot holds: top-level fields, no
// connections.
func liveSnapshot() *analyzer.Report {
	return &analyzer.Report{
		Users:    []analyzer.User{{Name: `CORP\alice`, User: "alice", Domain: "CORP", Workstations: []string{"PC42"}}},
		Backends: []analyzer.Backend{{Identity: "WEB01", Servers: []string{"10.0.0.9:80"}}},
		Findings: []analyzer.Finding{{
			Code: analyzer.CodeAuthFailed, Severity: analyzer.SeverityWarning, Title: "Authentication failed",
			Connections: []int{3}, TCPStreams: []int{7}, Frames: []int64{10, 12}, Count: 1,
			Time:    time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC),
			Message: "1 handshake of CORP\\alice from 10.0.0.5 failed against WEB01 (PC42)\x1b[2J",
			Users:   []string{`CORP\alice`},
		}},
	}
}

func TestLiveWriterRecords(t *testing.T) {
	var buf bytes.Buffer
	snap := liveSnapshot()
	w := NewLiveWriter(&buf, Options{})
	got, err := w.Write(snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Message != snap.Findings[0].Message {
		t.Errorf("returned %+v", got)
	}
	line := buf.String()
	if strings.Count(line, "\n") != 1 || !strings.HasPrefix(line, `{"type":"live_finding","code":"AUTH_FAILED",`) {
		t.Errorf("record %q", line)
	}
	var rec struct {
		Type string `json:"type"`
		analyzer.Finding
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Type != RecordLiveFinding || rec.Message != snap.Findings[0].Message || !rec.Time.Equal(snap.Findings[0].Time) {
		t.Errorf("decoded %+v", rec)
	}

	// Without a stream: the sharing rules only.
	if got, err := NewLiveWriter(nil, Options{}).Write(liveSnapshot()); err != nil || len(got) != 1 {
		t.Errorf("no stream: %v, %v", got, err)
	}
}

// TestLiveWriterAnonymizes: with the report's key, a live finding quotes
// the pseudonyms the final report uses, names learnt from the snapshot's
// users and backends included (a server identity no finding field names).
func TestLiveWriterAnonymizes(t *testing.T) {
	opts := Options{Anonymize: true, AnonymizeKey: []byte("k")}
	var live bytes.Buffer
	got, err := NewLiveWriter(&live, opts).Write(liveSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"alice", "CORP", "WEB01", "PC42", "10.0.0.5"} {
		if strings.Contains(live.String(), leak) || strings.Contains(LiveLine(got[0]), leak) {
			t.Errorf("live output names %q:\n%s\n%s", leak, live.String(), LiveLine(got[0]))
		}
	}
	var final bytes.Buffer
	r, _ := New("ndjson", opts)
	if err := r.Render(&final, liveSnapshot()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(final.String(), mustJSON(t, got[0].Message)) {
		t.Errorf("the final report's message differs from the live one %q:\n%s", got[0].Message, final.String())
	}
}

func mustJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestLiveLine(t *testing.T) {
	f := liveSnapshot().Findings[0]
	want := `2025-03-01T09:30:00.123Z warning AUTH_FAILED: 1 handshake of CORP\alice from 10.0.0.5 failed against WEB01 (PC42)\x1b[2J (tcp.stream eq 7)`
	if got := LiveLine(f); got != want {
		t.Errorf("line\n %q\nwant\n %q", got, want)
	}
	f.TCPStreams = []int{1, 2, 3, 4, 5, 6}
	if got := LiveLine(f); !strings.HasSuffix(got, "(tcp.stream eq 1 || tcp.stream eq 2 || tcp.stream eq 3 || tcp.stream eq 4 (+2 more))") {
		t.Errorf("several streams: %q", got)
	}
	f.TCPStreams = nil
	if got := LiveLine(f); strings.Contains(got, "tcp.stream") {
		t.Errorf("no stream: %q", got)
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errTest }

var errTest = errors.New("disk full")

func TestLiveWriterError(t *testing.T) {
	w := NewLiveWriter(errWriter{}, Options{})
	if _, err := w.Write(liveSnapshot()); err != errTest {
		t.Errorf("error %v", err)
	}
	got, err := w.Write(liveSnapshot())
	if err != errTest || len(got) != 1 {
		t.Errorf("after an error: %v, %v (the findings are still returned for the terminal)", got, err)
	}
}
