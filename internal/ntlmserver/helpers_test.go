package ntlmserver

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/ntlmscope/ntlmscope/internal/syncbuf"
	"github.com/ntlmscope/ntlmscope/ntlm"
)

// logBuffer is a log destination safe for the server's goroutines, which
// the test reads back as entries.
type logBuffer struct{ syncbuf.Buffer }

func (b *logBuffer) entries(t *testing.T) []Entry {
	t.Helper()
	es, err := ReadLog(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

var testUsers = []User{{Name: "alice", Password: "Passw0rd!"}, {Domain: "OTHER", Name: "bob", Password: "hunter2"}}

// startServer starts a server on a free loopback port; it is closed at the
// end of the test.
func startServer(t *testing.T, opts Options) (*Server, *logBuffer) {
	t.Helper()
	log := &logBuffer{}
	if opts.Name == "" {
		opts.Name = "WEB01"
	}
	if opts.Users == nil {
		opts.Users = testUsers
	}
	opts.Log = log
	s, err := Start(opts, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, log
}

// rawConn is one client TCP connection on which the test decides every
// header, so that it controls which connection carries which message.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, s *Server) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// get sends GET path with the given Authorization value ("" for none) and
// returns the response with its body read.
func (rc *rawConn) get(path, authorization string) *http.Response {
	rc.t.Helper()
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: web\r\n")
	if authorization != "" {
		b.WriteString("Authorization: " + authorization + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(rc.c, b.String()); err != nil {
		rc.t.Fatal(err)
	}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		rc.t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}

// type1 returns an "NTLM <Type 1>" header value built by go-ntlmssp.
func type1(t *testing.T) string {
	t.Helper()
	m, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		t.Fatal(err)
	}
	return "NTLM " + base64.StdEncoding.EncodeToString(m)
}

// challengeOf returns the token of a 401's WWW-Authenticate: <scheme> <token>.
func challengeOf(t *testing.T, resp *http.Response, scheme string) []byte {
	t.Helper()
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		if tok, ok := strings.CutPrefix(v, scheme+" "); ok {
			b, err := base64.StdEncoding.DecodeString(tok)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no %s challenge in %d response: %q", scheme, resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	return nil
}

// type3 answers a raw Type 2 with go-ntlmssp.
func type3(t *testing.T, type2 []byte, user, password string) []byte {
	t.Helper()
	m, err := ntlmssp.NewAuthenticateMessage(type2, user, password, &ntlmssp.AuthenticateMessageOptions{WorkstationName: "PC01"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// handshake runs Type 1 and Type 3 on rc and returns the final response.
func (rc *rawConn) handshake(path, user, password string) *http.Response {
	rc.t.Helper()
	resp := rc.get(path, type1(rc.t))
	if resp.StatusCode != http.StatusUnauthorized {
		rc.t.Fatalf("Type 1 answered %d, want 401", resp.StatusCode)
	}
	t3 := type3(rc.t, challengeOf(rc.t, resp, "NTLM"), user, password)
	return rc.get(path, "NTLM "+base64.StdEncoding.EncodeToString(t3))
}

// decodeType2 decodes a Type 2 with the project's codec.
func decodeType2(t *testing.T, b []byte) *ntlm.Challenge {
	t.Helper()
	m, err := ntlm.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	ch, ok := m.(*ntlm.Challenge)
	if !ok {
		t.Fatalf("got %T, want a Type 2", m)
	}
	return ch
}

// steps summarises log entries as "step/status/result" for comparison.
func steps(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e.Step) + "/" + http.StatusText(e.Status) + "/" + string(e.Result)
	}
	return out
}
