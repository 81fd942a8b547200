package ntlmserver

import (
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/ntlmscope/ntlmscope/internal/tlslab"
	"github.com/ntlmscope/ntlmscope/ntlm"
)

// negotiatorGet makes one request with go-ntlmssp's RoundTripper and
// returns its status. The Negotiator keeps the first 401 open while it
// runs the handshake, so the anonymous request and the handshake use two
// connections.
func negotiatorGet(t *testing.T, s *Server, user, password string) int {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: tr}}
	req, err := http.NewRequest("GET", "http://"+s.Addr().String()+"/page", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestGoNTLMSSPClientSucceeds(t *testing.T) {
	s, log := startServer(t, Options{})
	if status := negotiatorGet(t, s, `LAB\alice`, "Passw0rd!"); status != 200 {
		t.Fatalf("status %d, want 200", status)
	}
	es := log.entries(t)
	want := []string{"none/Unauthorized/offered", "type1/Unauthorized/challenged", "type3/OK/authenticated"}
	if got := steps(es); !slices.Equal(got, want) {
		t.Fatalf("log steps %q, want %q", got, want)
	}
	if es[1].Conn != es[2].Conn {
		t.Errorf("Type 1 on conn %d, Type 3 on conn %d", es[1].Conn, es[2].Conn)
	}
	if e := es[2]; e.User != `LAB\alice` || e.ChallengeFrom != "WEB01" || e.Backend != "WEB01" {
		t.Errorf("Type 3 entry %+v", e)
	}
}

func TestConnectionStaysAuthenticated(t *testing.T) {
	s, log := startServer(t, Options{})
	rc := dial(t, s)
	if r := rc.handshake("/", `LAB\alice`, "Passw0rd!"); r.StatusCode != 200 {
		t.Fatalf("handshake answered %d", r.StatusCode)
	}
	for range 3 {
		if r := rc.get("/next", ""); r.StatusCode != 200 {
			t.Fatalf("request on the authenticated connection answered %d", r.StatusCode)
		}
	}
	if r := dial(t, s).get("/next", ""); r.StatusCode != 401 {
		t.Fatalf("request on another connection answered %d, want 401", r.StatusCode)
	}
	es := log.entries(t)
	if e := es[4]; e.Result != ResultSession || e.User != `LAB\alice` || e.ConnRequest != 5 {
		t.Errorf("last session entry %+v", e)
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	s, log := startServer(t, Options{})
	if status := negotiatorGet(t, s, `LAB\alice`, "wrong"); status != 401 {
		t.Fatalf("status %d, want 401", status)
	}
	es := log.entries(t)
	if e := es[2]; e.Step != StepType3 || e.Result != ResultBadPassword || e.Status != 401 {
		t.Fatalf("third entry %+v, want a refused Type 3 (bad-password)", e)
	}
}

func TestHandshakeRestartsAfterFailureOnSameConnection(t *testing.T) {
	s, log := startServer(t, Options{})
	rc := dial(t, s)
	if r := rc.handshake("/", `LAB\alice`, "wrong"); r.StatusCode != 401 {
		t.Fatalf("wrong password answered %d", r.StatusCode)
	}
	// The failure ends the handshake: a bare Type 3 now has no challenge.
	if r := rc.handshake("/", `LAB\alice`, "Passw0rd!"); r.StatusCode != 200 {
		t.Fatalf("second handshake answered %d", r.StatusCode)
	}
	got := steps(log.entries(t))
	want := []string{"type1/Unauthorized/challenged", "type3/Unauthorized/bad-password",
		"type1/Unauthorized/challenged", "type3/OK/authenticated"}
	if !slices.Equal(got, want) {
		t.Fatalf("log steps %q, want %q", got, want)
	}
}

func TestType3OnFreshConnectionFails(t *testing.T) {
	s, log := startServer(t, Options{})
	a, b := dial(t, s), dial(t, s)
	resp := a.get("/", type1(t))
	t3 := type3(t, challengeOf(t, resp, "NTLM"), `LAB\alice`, "Passw0rd!")
	if r := b.get("/", "NTLM "+base64.StdEncoding.EncodeToString(t3)); r.StatusCode != 401 {
		t.Fatalf("Type 3 on a connection that issued no challenge answered %d, want 401", r.StatusCode)
	}
	if r := b.get("/", ""); r.StatusCode != 401 {
		t.Fatalf("connection authenticated after a refused Type 3: %d", r.StatusCode)
	}
	es := log.entries(t)
	if e := es[1]; e.Result != ResultNoChallenge || e.Conn != 2 || e.ChallengeFrom != "WEB01" {
		t.Fatalf("entry %+v, want no-challenge on conn 2 answering WEB01", e)
	}
}

func TestType3AnsweringAnotherChallengeFails(t *testing.T) {
	web01, log1 := startServer(t, Options{Name: "WEB01"})
	web02, log2 := startServer(t, Options{Name: "WEB02"})
	a1, b1 := dial(t, web01), dial(t, web01)
	c2 := dial(t, web02)

	chA := challengeOf(t, a1.get("/", type1(t)), "NTLM")
	b1.get("/", type1(t)) // b1 now has a challenge of its own
	c2.get("/", type1(t))
	t3 := "NTLM " + base64.StdEncoding.EncodeToString(type3(t, chA, `LAB\alice`, "Passw0rd!"))

	// Same server, another connection's challenge.
	if r := b1.get("/", t3); r.StatusCode != 401 {
		t.Fatalf("Type 3 for another connection's challenge answered %d", r.StatusCode)
	}
	// Another server's challenge.
	if r := c2.get("/", t3); r.StatusCode != 401 {
		t.Fatalf("Type 3 for another server's challenge answered %d", r.StatusCode)
	}
	// The right connection still accepts it.
	if r := a1.get("/", t3); r.StatusCode != 200 {
		t.Fatalf("Type 3 on its own connection answered %d", r.StatusCode)
	}
	if e := log1.entries(t)[2]; e.Result != ResultOtherChallenge || e.ChallengeFrom != "WEB01" {
		t.Errorf("WEB01 entry %+v, want other-challenge", e)
	}
	if e := log2.entries(t)[1]; e.Result != ResultOtherChallenge || e.ChallengeFrom != "WEB01" || e.Backend != "WEB02" {
		t.Errorf("WEB02 entry %+v, want other-challenge from WEB01", e)
	}
}

func TestChallengeNamesTheServer(t *testing.T) {
	s, _ := startServer(t, Options{Name: "WEB07"})
	before := time.Now().Add(-time.Second)
	ch := decodeType2(t, challengeOf(t, dial(t, s).get("/", type1(t)), "NTLM"))
	ti := ch.TargetInfo
	if ti == nil {
		t.Fatal("no TargetInfo")
	}
	if ti.NbComputerName != "WEB07" || ti.DnsComputerName != "web07.lab.example" ||
		ti.NbDomainName != "LAB" || ti.DnsDomainName != "lab.example" || ch.TargetName != "LAB" {
		t.Errorf("names %+v, target %q", ti, ch.TargetName)
	}
	if !ti.HasTimestamp || ti.Timestamp.Before(before) || ti.Timestamp.After(time.Now().Add(time.Second)) {
		t.Errorf("timestamp %v (present %v), want now", ti.Timestamp, ti.HasTimestamp)
	}
	if ch.Flags.Has(ntlm.NegotiateKeyExch) || ch.Flags.Has(ntlm.NegotiateLMKey) || !ch.Flags.Has(ntlm.NegotiateTargetInfo) {
		t.Errorf("flags %v", ch.Flags)
	}
	if ch.ServerChallenge.Len() != 8 {
		t.Errorf("server challenge of %d bytes", ch.ServerChallenge.Len())
	}
}

func TestNegotiateWithRawNTLMSSP(t *testing.T) {
	s, log := startServer(t, Options{})
	rc := dial(t, s)
	t1, _ := ntlmssp.NewNegotiateMessage("", "")
	resp := rc.get("/", "Negotiate "+base64.StdEncoding.EncodeToString(t1))
	t2 := challengeOf(t, resp, "Negotiate")
	decodeType2(t, t2) // raw, answered in kind
	resp = rc.get("/", "Negotiate "+base64.StdEncoding.EncodeToString(type3(t, t2, `LAB\alice`, "Passw0rd!")))
	if resp.StatusCode != 200 || resp.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if e := log.entries(t)[1]; e.Scheme != "Negotiate" || e.SPNEGO {
		t.Errorf("entry %+v", e)
	}
}

func TestNegotiateWithSPNEGO(t *testing.T) {
	s, log := startServer(t, Options{})
	rc := dial(t, s)
	t1, _ := ntlmssp.NewNegotiateMessage("", "")
	resp := rc.get("/", "Negotiate "+base64.StdEncoding.EncodeToString(ntlm.WrapSPNEGOInit(t1)))
	tok, err := ntlm.DecodeToken(ntlm.SchemeNegotiate, challengeOf(t, resp, "Negotiate"))
	if err != nil || tok.SPNEGO != ntlm.NegTokenResp || tok.NegState != ntlm.AcceptIncomplete || tok.Mech != ntlm.MechNTLM {
		t.Fatalf("challenge token %+v, %v", tok, err)
	}
	t3 := type3(t, tok.MechToken, `LAB\alice`, "Passw0rd!")
	resp = rc.get("/", "Negotiate "+base64.StdEncoding.EncodeToString(ntlm.WrapSPNEGOResp(ntlm.NegStateAbsent, t3)))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	final, err := ntlm.DecodeToken(ntlm.SchemeNegotiate, challengeOf(t, resp, "Negotiate"))
	if err != nil || final.NegState != ntlm.AcceptCompleted {
		t.Fatalf("final token %+v, %v", final, err)
	}
	if e := log.entries(t)[1]; !e.SPNEGO || e.Result != ResultAuthenticated {
		t.Errorf("entry %+v", e)
	}
}

func TestPersistSingleRequest(t *testing.T) {
	s, _ := startServer(t, Options{PersistSingleRequest: true})
	rc := dial(t, s)
	if r := rc.handshake("/", `LAB\alice`, "Passw0rd!"); r.StatusCode != 200 {
		t.Fatalf("handshake answered %d", r.StatusCode)
	}
	if r := rc.get("/", ""); r.StatusCode != 401 {
		t.Fatalf("next request answered %d, want 401 (authPersistSingleRequest)", r.StatusCode)
	}
}

func TestAnonymousServesWithoutAuthentication(t *testing.T) {
	s, log := startServer(t, Options{Anonymous: true})
	if r := dial(t, s).get("/", ""); r.StatusCode != 200 {
		t.Fatalf("status %d", r.StatusCode)
	}
	if e := log.entries(t)[0]; e.Result != ResultAnonymous {
		t.Errorf("entry %+v", e)
	}
}

func TestAccounts(t *testing.T) {
	tests := []struct {
		user, password string
		want           Result
	}{
		{`LAB\alice`, "Passw0rd!", ResultAuthenticated},
		{`lab.example\ALICE`, "Passw0rd!", ResultAuthenticated},
		{`alice@lab.example`, "Passw0rd!", ResultAuthenticated},
		{`OTHER\bob`, "hunter2", ResultAuthenticated},
		{`LAB\bob`, "hunter2", ResultUnknownUser},
		{`LAB\mallory`, "x", ResultUnknownUser},
		{`OTHER\bob`, "Hunter2", ResultBadPassword},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			s, log := startServer(t, Options{})
			dial(t, s).handshake("/", tt.user, tt.password)
			if e := log.entries(t)[1]; e.Result != tt.want {
				t.Errorf("result %q, want %q (%+v)", e.Result, tt.want, e)
			}
		})
	}
}

func TestHeadersSpelledLikeIIS(t *testing.T) {
	s, _ := startServer(t, Options{})
	rc := dial(t, s)
	if _, err := io.WriteString(rc.c, "GET / HTTP/1.1\r\nHost: web\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := rc.c.Read(buf)
	head := string(buf[:n])
	for _, want := range []string{"\r\nWWW-Authenticate: Negotiate\r\n", "\r\nWWW-Authenticate: NTLM\r\n", "\r\nServer: Microsoft-IIS/10.0\r\n"} {
		if !strings.Contains(head, want) {
			t.Errorf("response lacks %q:\n%s", want, head)
		}
	}
}

// TestStartTLS: the HTTPS server runs the same NTLM handshake, HTTP/1.1
// over TLS, as go-ntlmssp sees it.
func TestStartTLS(t *testing.T) {
	cert, err := tlslab.Certificate(tlslab.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	log := &logBuffer{}
	s, err := StartTLS(Options{Name: "WEB01", Users: testUsers, Log: log}, "127.0.0.1:0",
		&tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // the throwaway certificate
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequest("GET", "https://"+s.Addr().String()+"/page", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(`LAB\alice`, "Passw0rd!")
	resp, err := (&http.Client{Transport: ntlmssp.Negotiator{RoundTripper: tr}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.ProtoMajor != 1 {
		t.Fatalf("status %d, TLS %v, HTTP/%d", resp.StatusCode, resp.TLS != nil, resp.ProtoMajor)
	}
	want := []string{"none/Unauthorized/offered", "type1/Unauthorized/challenged", "type3/OK/authenticated"}
	if got := steps(log.entries(t)); !slices.Equal(got, want) {
		t.Fatalf("log steps %q, want %q", got, want)
	}
}
