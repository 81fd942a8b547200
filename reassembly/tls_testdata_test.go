package reassembly

import (
	"crypto/tls"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

var update = flag.Bool("update", false, "regenerate the TLS captures, key logs and goldens under testdata/tls with real peers (review the diff like code)")

// tlsTestdata are the captures kept under testdata/tls: real crypto/tls
// peers recorded on loopback (tlslab), small enough to keep.
var tlsTestdata = []tlsCase{
	{"tls12-chacha20", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tlslab.RSA},
	{"tls12-aes256gcm", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tlslab.ECDSA},
	{"tls13-aes128gcm", tls.VersionTLS13, 0, tlslab.RSA},
}

const tlsDataDir = "testdata/tls"

// TestTLSTestdata decrypts the kept captures with their key logs (and,
// for the injected one, with the secrets inside) and compares the messages
// with the goldens, which were the plaintext's when the captures were made.
func TestTLSTestdata(t *testing.T) {
	if *update {
		regenerateTLSTestdata(t)
	}
	for _, c := range tlsTestdata {
		t.Run(c.name, func(t *testing.T) {
			capture := readTestdata(t, c.name+".pcapng")
			golden := strings.TrimSpace(string(readTestdata(t, c.name+".golden")))
			log, st, _ := analyse(t, capture, keyLogOf(t, readTestdata(t, c.name+".keylog")))
			if got := strings.Join(log.msgs, "\n"); got != golden {
				t.Errorf("messages differ from %s.golden:\n%s", c.name, got)
			}
			if st.TLSDecrypted != 1 || st.TLSFailedRecords != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
	t.Run("injected", func(t *testing.T) {
		log, st, sst := analyse(t, readTestdata(t, "tls13-injected.pcapng"), nil)
		golden := strings.TrimSpace(string(readTestdata(t, "tls13-aes128gcm.golden")))
		if got := strings.Join(log.msgs, "\n"); got != golden || st.TLSDecrypted != 1 || sst.TLSSecretsBlocks != 1 {
			t.Errorf("stats %+v source %+v messages:\n%s", st, sst, got)
		}
	})
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tlsDataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// regenerateTLSTestdata records new captures with real peers.
func regenerateTLSTestdata(t *testing.T) {
	if err := os.MkdirAll(tlsDataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range tlsTestdata {
		s := runLab(t, "127.0.0.1", c, tlslab.NTLMExchanges(3000, 2000))
		rec := s.srv.Recordings()[0]
		plain, _, _ := analyse(t, recordedCapture(t, rec, false), nil)
		write := func(name string, b []byte) {
			if err := os.WriteFile(filepath.Join(tlsDataDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(c.name+".pcapng", recordedCapture(t, rec, true))
		write(c.name+".keylog", s.keylog)
		write(c.name+".golden", []byte(strings.Join(plain.msgs, "\n")+"\n"))
	}
	// The TLS 1.3 capture with its key log injected (editcap).
	dir := filepath.Join(tlsDataDir)
	out, err := exec.Command("editcap", "--inject-secrets", "tls,"+filepath.Join(dir, "tls13-aes128gcm.keylog"),
		filepath.Join(dir, "tls13-aes128gcm.pcapng"), filepath.Join(dir, "tls13-injected.pcapng")).CombinedOutput()
	if err != nil {
		t.Fatalf("editcap: %v: %s", err, out)
	}
}
