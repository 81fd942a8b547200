package reassembly

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

// needTools skips the test unless the named programs are installed.
func needTools(t *testing.T, names ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("real captures: not in -short")
	}
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not installed", n)
		}
	}
}

// tcpdumpLab runs the exchanges of c against a tlslab server while tcpdump
// captures them on the loopback interface. It returns the session, the
// capture's and the key log's paths.
func tcpdumpLab(t *testing.T, c tlsCase, exs []tlslab.Exchange) (s *labSession, capture, keylog string) {
	t.Helper()
	dir := t.TempDir()
	// NTLMSCOPE_TLS_KEEP=DIR keeps the captures and key logs, to open them
	// in Wireshark when a test fails.
	if d := os.Getenv("NTLMSCOPE_TLS_KEEP"); d != "" {
		dir = filepath.Join(d, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	capture = filepath.Join(dir, "tls.pcap")
	host := labHost()
	var dump *tlslab.Tcpdump
	s = runLabWith(t, host, c, exs, func(srv *tlslab.Server) func() {
		var err error
		dump, err = tlslab.StartTcpdump("lo", fmt.Sprintf("host %s and tcp port %d", host, srv.Addr.Port()), capture)
		if err != nil {
			t.Skipf("tcpdump cannot capture here: %v", err)
		}
		return func() {
			if err := dump.Stop(); err != nil {
				t.Fatalf("tcpdump: %v", err)
			}
			if n := dump.Dropped(); n > 0 {
				t.Fatalf("tcpdump: the kernel dropped %d packets: %s", n, dump.Output())
			}
		}
	})
	keylog = filepath.Join(dir, "keylog.txt")
	if err := os.WriteFile(keylog, s.keylog, 0o600); err != nil {
		t.Fatal(err)
	}
	return s, capture, keylog
}

// analyseFile runs a capture file through Run with keys.
func analyseFile(t *testing.T, path string, keys *KeyLog) (*msgLog, StreamStats, SourceStats) {
	t.Helper()
	src, err := OpenFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	log := &msgLog{}
	st, err := Run(src, log, Options{KeyLog: keys})
	if err != nil {
		t.Fatal(err)
	}
	return log, st, src.Stats()
}

// tsharkMessages returns "frame method" for each HTTP request and "frame
// status" for each response tshark finds decrypting capture with keylog
// (empty: no key log).
func tsharkMessages(t *testing.T, capture, keylog string, port uint16) []string {
	t.Helper()
	// The server listens on a random port, which may be registered to
	// another protocol: tell tshark it is TLS carrying HTTP.
	args := []string{"-r", capture, "-n", "-d", fmt.Sprintf("tcp.port==%d,tls", port), "-d", fmt.Sprintf("tls.port==%d,http", port),
		"-Y", "http.request || http.response", "-T", "fields",
		"-e", "frame.number", "-e", "http.request.method", "-e", "http.response.code"}
	if keylog != "" {
		args = append(args, "-o", "tls.keylog_file:"+keylog)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || f[0] == "" {
			continue
		}
		// A frame may hold several messages: tshark lists their
		// methods or codes comma-separated.
		for _, v := range strings.Split(f[1]+f[2], ",") {
			msgs = append(msgs, f[0]+" "+v)
		}
	}
	return msgs
}

// ourMessages returns what tsharkMessages returns, from our analysis.
func ourMessages(log *msgLog) []string {
	var msgs []string
	for i, m := range log.msgs {
		f := strings.Fields(m)
		v := f[1] // method
		if f[0] == "req=false" {
			v = f[2] // status (method and target are empty)
		}
		msgs = append(msgs, fmt.Sprintf("%d %s", log.frames[i], v))
	}
	slices.SortStableFunc(msgs, func(a, b string) int {
		var x, y int
		fmt.Sscan(a, &x)
		fmt.Sscan(b, &y)
		return x - y
	})
	return msgs
}

// TestTLSTcpdumpTshark decrypts real loopback captures (tcpdump) of Go
// peers, checks the messages against the plaintext the server handled,
// and the frames against tshark decrypting the same capture with the same
// key log. The capture then gets the key log injected (editcap
// --inject-secrets) and must decrypt without a key log file.
func TestTLSTcpdumpTshark(t *testing.T) {
	needTools(t, "tcpdump", "tshark", "editcap")
	for _, c := range tlsCases {
		t.Run(c.name, func(t *testing.T) {
			s, capture, keylog := tcpdumpLab(t, c, tlslab.NTLMExchanges(70000, 50000))
			recs := s.srv.Recordings()
			if len(recs) != 1 {
				t.Fatalf("%d connections, want 1", len(recs))
			}
			plain, _, _ := analyse(t, recordedCapture(t, recs[0], false), nil)

			keys, err := LoadKeyLogs(keylog)
			if err != nil {
				t.Fatal(err)
			}
			got, st, _ := analyseFile(t, capture, keys)
			sameMessages(t, got.msgs, plain.msgs)
			if st.TLSDecrypted != 1 || st.TLSFailedRecords != 0 || st.Gaps != 0 {
				t.Errorf("stats = %+v", st)
			}

			ts := tsharkMessages(t, capture, keylog, recs[0].Server.Port())
			ours := ourMessages(got)
			t.Logf("tshark: %d messages, ours: %d (%v)", len(ts), len(ours), ts)
			if !slices.Equal(ours, ts) {
				t.Errorf("frames differ from tshark's:\nours   %q\ntshark %q", ours, ts)
			}

			injected := filepath.Join(t.TempDir(), "injected.pcapng")
			if out, err := exec.Command("editcap", "--inject-secrets", "tls,"+keylog, capture, injected).CombinedOutput(); err != nil {
				t.Fatalf("editcap: %v: %s", err, out)
			}
			emb, st, sst := analyseFile(t, injected, nil)
			sameMessages(t, emb.msgs, plain.msgs)
			if sst.TLSSecretsBlocks != 1 || st.TLSDecrypted != 1 {
				t.Errorf("injected: %d secrets blocks, stats %+v", sst.TLSSecretsBlocks, st)
			}
			if ts := tsharkMessages(t, injected, "", recs[0].Server.Port()); !slices.Equal(ourMessages(emb), ts) {
				t.Errorf("injected: frames differ from tshark's:\nours   %q\ntshark %q", ourMessages(emb), ts)
			}
		})
	}
}
