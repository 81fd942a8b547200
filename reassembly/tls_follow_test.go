package reassembly

import (
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
		path := filepath.Join(t.TempDir(), "sslkeylog.txt")
		if err := os.WriteFile(path, []byte("# NSS key log\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		keys, err := LoadKeyLogs(path)
		if err != nil {
			t.Fatal(err)
		}
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
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.Write(s.keyLog())
				f.Close()
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
