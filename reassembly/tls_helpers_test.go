package reassembly

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

// tlsCase is a TLS configuration the tests run real peers with.
type tlsCase struct {
	name    string
	version uint16 // tls.VersionTLS12 or tls.VersionTLS13
	suite   uint16 // TLS 1.2 only: the one suite offered
	key     tlslab.KeyType
}

// tlsCases covers the suites ntlmscope decrypts that Go's crypto/tls
// negotiates with itself. For TLS 1.3 Go always picks TLS_AES_128_GCM_SHA256
// (it offers no way to prefer another on hardware with AES): curl, in
// tls_curl_test.go, covers TLS_AES_256_GCM_SHA384 and
// TLS_CHACHA20_POLY1305_SHA256.
var tlsCases = []tlsCase{
	{"tls12-aes128gcm", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tlslab.RSA},
	{"tls12-aes256gcm", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tlslab.ECDSA},
	{"tls12-chacha20", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tlslab.RSA},
	{"tls13", tls.VersionTLS13, 0, tlslab.RSA},
}

// labHost returns a loopback address of its own for a test, so that a
// capture filter on it sees no other test's traffic.
func labHost() string {
	return fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(100), 1+rand.IntN(250), 1+rand.IntN(250))
}

// labSession is one run of the NTLM exchanges against a tlslab server.
type labSession struct {
	srv     *tlslab.Server
	keylog  []byte
	results []tlslab.Result
}

// runLab starts a server on host for c, runs exs on one connection with a
// key log, and stops the server.
func runLab(t *testing.T, host string, c tlsCase, exs []tlslab.Exchange) *labSession {
	t.Helper()
	return runLabWith(t, host, c, exs, nil)
}

// runLabWith is runLab calling around (when not nil) once the server
// listens; the function it returns is called once the server stopped.
func runLabWith(t *testing.T, host string, c tlsCase, exs []tlslab.Exchange, around func(srv *tlslab.Server) func()) *labSession {
	t.Helper()
	cert, err := tlslab.Certificate(c.key)
	if err != nil {
		t.Fatal(err)
	}
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: c.version, MaxVersion: c.version}
	if c.suite != 0 {
		scfg.CipherSuites = []uint16{c.suite}
	}
	srv, err := tlslab.Start(tlslab.Options{Addr: host + ":0", TLS: scfg})
	if err != nil {
		t.Fatal(err)
	}
	after := func() {}
	if around != nil {
		after = around(srv)
	}
	var kl bytes.Buffer
	ccfg := &tls.Config{MinVersion: c.version, MaxVersion: c.version, KeyLogWriter: &kl}
	if c.suite != 0 {
		ccfg.CipherSuites = []uint16{c.suite}
	}
	results, err := tlslab.Run(srv.Addr, ccfg, exs)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	after()
	return &labSession{srv: srv, keylog: kl.Bytes(), results: results}
}

// recordedCapture writes a recording as a pcapng capture: the wire bytes
// (raw) or the plaintext inside TLS.
func recordedCapture(t *testing.T, rec *tlslab.Recording, raw bool) []byte {
	t.Helper()
	chunks := rec.Plain()
	if raw {
		chunks = rec.Raw()
	}
	b, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{Link: capwriter.Ethernet}, tlslab.Packets(rec.Client, rec.Server, chunks, 0))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// msgLog records what a Handler hears, messages described field by field
// (frames apart, which differ between a TLS and a plaintext capture).
type msgLog struct {
	msgs   []string
	frames []int64 // the frame of each message, in order
	closed []Conn
}

func (m *msgLog) ConnectionOpened(c *Conn) {}

func (m *msgLog) Request(c *Conn, req *Message) { m.add(req) }

func (m *msgLog) Response(c *Conn, req, resp *Message) { m.add(resp) }

func (m *msgLog) ConnectionClosed(c *Conn) { m.closed = append(m.closed, *c) }

func (m *msgLog) add(msg *Message) {
	var h strings.Builder
	for _, f := range msg.Header {
		fmt.Fprintf(&h, "%s: %s|", f.Name, f.Value)
	}
	s := fmt.Sprintf("req=%v %s %s %s %d %s body=%d incomplete=%v resynced=%v headers=%s",
		msg.Request, msg.Method, msg.Target, msg.Proto, msg.Status, msg.Reason, msg.BodyBytes, msg.Incomplete, msg.Resynced, h.String())
	m.msgs = append(m.msgs, s)
	m.frames = append(m.frames, msg.Frame)
}

// analyse runs a capture (bytes) through Run with keys and returns what
// the handler heard, the reassembler's and the source's statistics.
func analyse(t *testing.T, capture []byte, keys *KeyLog) (*msgLog, StreamStats, SourceStats) {
	t.Helper()
	src := srcOpenBytes(t, capture)
	defer src.Close()
	log := &msgLog{}
	st, err := Run(src, log, Options{KeyLog: keys})
	if err != nil {
		t.Fatal(err)
	}
	return log, st, src.Stats()
}

// keyLogOf returns a key log holding b.
func keyLogOf(t testing.TB, b []byte) *KeyLog {
	t.Helper()
	k := NewKeyLog()
	if err := k.Read("test keylog", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return k
}

// sameMessages fails the test unless got and want describe the same
// messages.
func sameMessages(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d messages, want %d:\ngot  %q\nwant %q", len(got), len(want), got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("message %d:\ngot  %s\nwant %s", i, got[i], want[i])
		}
	}
}
