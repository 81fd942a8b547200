package reassembly

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

// curlCase is a TLS configuration curl (OpenSSL) negotiates with a Go
// server.
type curlCase struct {
	name string
	args []string
	// suite is what the server must have selected.
	suite uint16
}

var curlCases = []curlCase{
	{"tls12-aes128gcm", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"}, 0xc02f},
	{"tls12-aes256gcm", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES256-GCM-SHA384"}, 0xc030},
	{"tls12-chacha20", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-RSA-CHACHA20-POLY1305"}, 0xcca8},
	{"tls13-aes128gcm", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"}, 0x1301},
	{"tls13-aes256gcm", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"}, 0x1302},
	{"tls13-chacha20", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"}, 0x1303},
}

// curlArgs turns exchanges into one curl command line that runs them in
// order on one connection (--next keeps the connection).
func curlArgs(t *testing.T, base string, tlsArgs []string, exs []tlslab.Exchange) []string {
	var args []string
	for i, ex := range exs {
		if i > 0 {
			args = append(args, "--next")
		}
		args = append(args, "-k", "-s", "-S", "-o", os.DevNull, "--http1.1", "-A", "tlslab-curl/1.0", "-X", ex.Method)
		args = append(args, tlsArgs...)
		if ex.Auth != "" {
			args = append(args, "-H", "Authorization: "+ex.Auth)
		}
		if ex.Body != nil {
			body := filepath.Join(t.TempDir(), "body")
			if err := os.WriteFile(body, ex.Body, 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "-H", "Content-Type: application/octet-stream", "--data-binary", "@"+body)
		}
		args = append(args, base+ex.Target)
	}
	return args
}

// TestTLSCurl decrypts loopback captures of curl (OpenSSL, with
// SSLKEYLOGFILE) talking to a Go server, in TLS 1.2 and 1.3 with every
// AEAD suite, and checks the messages against the plaintext the server
// handled and the frames against tshark.
func TestTLSCurl(t *testing.T) {
	needTools(t, "curl", "tcpdump", "tshark")
	cert, err := tlslab.Certificate(tlslab.RSA)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range curlCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			host := labHost()
			srv, err := tlslab.Start(tlslab.Options{Addr: host + ":0", TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
			if err != nil {
				t.Fatal(err)
			}
			capture, keylog := filepath.Join(dir, "curl.pcap"), filepath.Join(dir, "keylog.txt")
			dump, err := tlslab.StartTcpdump("lo", fmt.Sprintf("host %s and tcp port %d", host, srv.Addr.Port()), capture)
			if err != nil {
				srv.Close()
				t.Skipf("tcpdump cannot capture here: %v", err)
			}
			base := fmt.Sprintf("https://%s", srv.Addr)
			cmd := exec.Command("curl", curlArgs(t, base, c.args, tlslab.NTLMExchanges(70000, 50000))...)
			cmd.Env = append(os.Environ(), "SSLKEYLOGFILE="+keylog)
			out, cerr := cmd.CombinedOutput()
			srv.Close()
			if err := dump.Stop(); err != nil {
				t.Fatal(err)
			}
			if cerr != nil {
				t.Fatalf("curl: %v: %s", cerr, out)
			}
			if n := dump.Dropped(); n > 0 {
				t.Fatalf("tcpdump: the kernel dropped %d packets", n)
			}
			recs := srv.Recordings()
			if len(recs) != 1 {
				t.Fatalf("%d connections, want 1 (curl did not keep the connection)", len(recs))
			}
			plain, _, _ := analyse(t, recordedCapture(t, recs[0], false), nil)
			if len(plain.msgs) != 8 {
				t.Fatalf("plaintext: %d messages, want 8", len(plain.msgs))
			}
			keys, err := LoadKeyLogs(keylog)
			if err != nil {
				t.Fatal(err)
			}
			got, st, _ := analyseFile(t, capture, keys)
			sameMessages(t, got.msgs, plain.msgs)
			if len(got.closed) != 1 || got.closed[0].TLS == nil || got.closed[0].TLS.CipherSuite != c.suite || !got.closed[0].Decrypted {
				t.Fatalf("conn = %+v", got.closed)
			}
			if st.TLSDecrypted != 1 || st.TLSFailedRecords != 0 {
				t.Errorf("stats = %+v", st)
			}
			ts := tsharkMessages(t, capture, keylog, recs[0].Server.Port())
			if ours := ourMessages(got); !slices.Equal(ours, ts) {
				t.Errorf("frames differ from tshark's:\nours   %q\ntshark %q", ours, ts)
			}
			t.Logf("%s: %d messages agree with tshark; key log %d bytes", c.name, len(ts), len(bytes.TrimSpace(mustRead(t, keylog))))
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
