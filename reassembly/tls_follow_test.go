package reassembly

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSKeyLogFollowed: a live capture's key log gains a session's secret
// just after the capture read the session's ServerHello, before its first
// protected record (the browser writes SSLKEYLOGFILE a moment later than
// the packet goes out). With Follow, the lookup that missed is made again
// as soon as the file grew, with no Reload and no other connection's help,
// and every request decrypts, the first one (an NTLM Type 1, in real
// traffic) included. Without it, the session stays closed.
func TestTLSKeyLogFollowed(t *testing.T) {
	for _, follow := range []bool{true, false} {
		s := synthNTLM(t, versionTLS12, 0xcca8)
		path, keys := growingKeyLog(t)
		if follow {
			keys.Follow()
		}
		src := srcOpenBytes(t, s.capture(1460))
		log := &msgLog{}
		r := NewReassembler(log, Options{KeyLog: keys})
		written := false
		for {
			p, err := src.Next()
			if err != nil {
				break
			}
			r.Packet(p)
			if !written && triedKeys(r) {
				// The ServerHello and a cipher change were read, the
				// lookup missed: now the secret arrives.
				appendKeyLog(t, path, s.keyLog())
				written = true
			}
		}
		r.Finish()
		src.Close()
		if !written {
			t.Fatal("no lookup missed: the test did not run")
		}
		got := strings.Join(statuses(log), "|")
		if want := "GET /a|401|GET /a|401|GET /a|200|GET /b|200"; follow && got != want {
			t.Errorf("followed: %s, want %s", got, want)
		}
		if !follow && got != "" {
			t.Errorf("not followed: %s, want nothing (no reload within 200 ms)", got)
		}
	}
}

// triedKeys reports whether a connection of r looked its secrets up and
// missed.
func triedKeys(r *Reassembler) bool {
	for _, e := range r.tracker.table {
		if cs := e.live; cs != nil && cs.tls != nil {
			for _, h := range cs.tls.half {
				if h.tried && h.cur == nil {
					return true
				}
			}
		}
	}
	return false
}

// TestTLSKeyLogFollowedRace replays the lab's HTTPS-through-a-proxy capture
// (a TLS 1.3 session in a CONNECT tunnel) while its key log is written as a
// client writes it during a live capture: the handshake secrets after the
// ServerHello, the application secrets after the server's Finished, both
// possibly after the capture read the server's encrypted flight and its
// first application records (session tickets). The session still decrypts
// whole. The pairs are packet counts after which each half was written:
// packet 11 is the server's flight, 12 the client's Finished (OpenSSL logs
// the client's application secret only after sending it), 13 the client's
// first request. Before the fixes the server's half never decrypted after
// 11/11 and 12/12, and the first request was lost after 11/12 (the lookup
// found the handshake secrets and did not read the file again). Later
// pairs are not what a live capture meets: a client writes its secrets
// before its first request.
func TestTLSKeyLogFollowedRace(t *testing.T) {
	const capture = "../testdata/lab/scenario12-squid-connect-https-backend-client.pcap"
	kl, err := os.ReadFile("../testdata/lab/scenario12-squid-connect-https-backend-client.keylog")
	if err != nil {
		t.Fatal(err)
	}
	var hs, app []byte
	for _, l := range bytes.SplitAfter(kl, []byte("\n")) {
		if bytes.Contains(l, []byte("HANDSHAKE_TRAFFIC_SECRET")) {
			hs = append(hs, l...)
		} else {
			app = append(app, l...)
		}
	}
	replay := func(hsAfter, appAfter int) string {
		path, keys := growingKeyLog(t)
		keys.Follow()
		src, err := OpenFiles([]string{capture}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		log := &msgLog{}
		r := NewReassembler(log, Options{KeyLog: keys})
		for n := 0; ; n++ {
			for _, w := range []struct {
				at   int
				data []byte
			}{{hsAfter, hs}, {appAfter, app}} {
				if n == w.at {
					appendKeyLog(t, path, w.data)
				}
			}
			p, err := src.Next()
			if err != nil {
				break
			}
			r.Packet(p)
		}
		r.Finish()
		return strings.Join(statuses(log), "|")
	}
	want := replay(0, 0)
	if !strings.Contains(want, "GET /s12/2|200") {
		t.Fatalf("with the key log from the start: %s", want)
	}
	for _, at := range [][2]int{{11, 11}, {12, 12}, {11, 12}} {
		if got := replay(at[0], at[1]); got != want {
			t.Errorf("secrets after packets %d and %d: %s\nwant %s", at[0], at[1], got, want)
		}
	}
}

// growingKeyLog returns a key log file that holds only a comment, as a
// browser's SSLKEYLOGFILE does before its first session, and a KeyLog
// reading it.
func growingKeyLog(t *testing.T) (path string, keys *KeyLog) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "sslkeylog.txt")
	if err := os.WriteFile(path, []byte("# NSS key log\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeyLogs(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, keys
}

// appendKeyLog appends lines to a key log file, as a browser does.
func appendKeyLog(t *testing.T, path string, lines []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(lines); err != nil {
		t.Fatal(err)
	}
}
