package analyzer

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// This file is a small scripting language for the analyzer's tests: it
// plays connections, messages and NTLM tokens (built with the ntlm
// encoders) as the reassembler would deliver them, with frame numbers and
// capture times, and no pcap.

var testKey = []byte("analyzer-test-key-0123456789abcd")

var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// script drives one Analyzer.
type script struct {
	t *testing.T
	a *Analyzer
	// h receives the events: a, or a recorder (interleave_test.go).
	h      reassembly.Handler
	now    time.Time
	frame  int64
	nextID int
	stream int
	open   []*tconn
	secret byte // varies challenges and proofs
	// secrets collects every secret the script put on the wire (server
	// challenges, proofs, responses, MICs, session keys, whole tokens), for
	// the redaction test.
	secrets [][]byte
}

func newScript(t *testing.T) *script {
	t.Helper()
	a := New(testOptions())
	return &script{t: t, a: a, h: a, now: t0}
}

// tick advances capture time by 1 ms and returns the next frame.
func (s *script) tick() (int64, time.Time) {
	s.now = s.now.Add(time.Millisecond)
	s.frame++
	return s.frame, s.now
}

// wait advances capture time.
func (s *script) wait(d time.Duration) { s.now = s.now.Add(d) }

// tconn is a scripted connection.
type tconn struct {
	s       *script
	c       *reassembly.Conn
	pending []*reassembly.Message
	idx     [2]int
	closed  bool
	// last Type 2 the client received on this connection.
	lastChallenge *challenge
	// clock is added to the times of the connection's messages: the
	// offset of the clock of the host that captured it.
	clock time.Duration
}

// connOpt adjusts a new connection.
type connOpt func(*reassembly.Conn)

// midstream makes a connection whose SYN was not captured.
func midstream(c *reassembly.Conn) { c.SawSYN = false }

// inFile puts a connection in the run's capture file n.
func inFile(n int) connOpt { return func(c *reassembly.Conn) { c.File = n } }

// conn opens a connection client → server ("10.0.0.5:50000").
func (s *script) conn(client, server string, opts ...connOpt) *tconn {
	f, now := s.tick()
	c := &reassembly.Conn{
		ID: s.nextID, Stream: s.stream, Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server),
		SawSYN: true, Start: now, End: now, FirstFrame: f, LastFrame: f, Protocol: reassembly.ProtoHTTP1,
	}
	s.nextID++
	s.stream++
	for _, o := range opts {
		o(c)
	}
	tc := &tconn{s: s, c: c}
	s.open = append(s.open, tc)
	s.h.ConnectionOpened(c)
	return tc
}

// msg builds a message at the next frame.
func (tc *tconn) msg(req bool, headers []string) *reassembly.Message {
	f, now := tc.s.tick()
	now = now.Add(tc.clock)
	m := &reassembly.Message{Request: req, Proto: "HTTP/1.1", FirstFrame: f, FirstTime: now, Frame: f, Time: now,
		GapsBefore: tc.c.Gaps}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		m.Header = append(m.Header, reassembly.HeaderField{Name: name, Value: value})
	}
	d := 1
	if req {
		d = 0
	}
	m.Index = tc.idx[d]
	tc.idx[d]++
	tc.c.End, tc.c.LastFrame = now, f
	return m
}

// req sends a request with the given headers ("Name: value").
func (tc *tconn) req(method, target string, headers ...string) *reassembly.Message {
	m := tc.msg(true, headers)
	m.Method, m.Target = method, target
	tc.c.Requests++
	tc.pending = append(tc.pending, m)
	tc.s.h.Request(tc.c, m)
	return m
}

// reqResynced sends a request the parser found by resynchronising (bytes
// before it were skipped).
func (tc *tconn) reqResynced(method, target string, headers ...string) *reassembly.Message {
	m := tc.msg(true, headers)
	m.Method, m.Target, m.Resynced = method, target, true
	tc.c.Requests++
	tc.pending = append(tc.pending, m)
	tc.s.h.Request(tc.c, m)
	return m
}

// resp answers the oldest pending request.
func (tc *tconn) resp(status int, headers ...string) *reassembly.Message {
	m := tc.msg(false, headers)
	m.Status = status
	tc.c.Responses++
	var req *reassembly.Message
	if len(tc.pending) > 0 {
		req = tc.pending[0]
		tc.pending = tc.pending[1:]
	}
	tc.s.h.Response(tc.c, req, m)
	return m
}

// drop forgets the oldest pending request's response (never captured).
func (tc *tconn) drop() {
	tc.pending = tc.pending[1:]
}

// gap records a hole in one direction (0 client, 1 server).
func (tc *tconn) gap(dir int) { tc.c.Gaps[dir]++ }

// finClient / finServer / rstServer close the connection from one side.
func (tc *tconn) finClient() { tc.end(0, reassembly.EndFIN, false) }
func (tc *tconn) finServer() { tc.end(1, reassembly.EndFIN, false) }
func (tc *tconn) rstServer() { tc.end(1, reassembly.EndRST, true) }

// end closes the connection: side d sends FIN (or RST) first, the other
// side answers with FIN.
func (tc *tconn) end(d int, reason reassembly.EndReason, rst bool) {
	f, now := tc.s.tick()
	tc.c.CloseTime[d] = now
	if rst {
		tc.c.RSTFrame[d] = f
	} else {
		tc.c.FINFrame[d] = f
		f2, now2 := tc.s.tick()
		tc.c.FINFrame[1-d], tc.c.CloseTime[1-d] = f2, now2
		now = now2
	}
	tc.c.End, tc.c.Ended = now, reason
	tc.closeWith()
}

// endAs closes the connection without FIN/RST (idle, capture end, evicted).
func (tc *tconn) endAs(reason reassembly.EndReason) {
	tc.c.Ended = reason
	tc.closeWith()
}

func (tc *tconn) closeWith() {
	if tc.closed {
		return
	}
	tc.closed = true
	tc.s.h.ConnectionClosed(tc.c)
}

// finish ends the capture: open connections end as capture_end.
func (s *script) finish() *Report {
	s.t.Helper()
	for _, tc := range s.open {
		if !tc.closed {
			tc.endAs(reassembly.EndCapture)
		}
	}
	return s.a.Finish(s.stats())
}

// stats is the source's account of the scripted capture.
func (s *script) stats() reassembly.SourceStats {
	return reassembly.SourceStats{Packets: s.frame, Bytes: s.frame * 100, FirstSeen: t0, LastSeen: s.now}
}

// testOptions are the analyzer options of every scripted test.
func testOptions() Options {
	return Options{HashKey: testKey, ToolVersion: "test", Files: []string{"test.pcap"}}
}

// ---- NTLM tokens ----

const testFlags = ntlm.NegotiateUnicode | ntlm.NegotiateNTLM | ntlm.NegotiateAlwaysSign |
	ntlm.NegotiateExtendedSessionSecurity | ntlm.NegotiateTargetInfo | ntlm.Negotiate128 | ntlm.NegotiateKeyExch

// challenge is a Type 2 as a server issued it.
type challenge struct {
	server string
	ts     time.Time
	token  []byte
	info   *ntlm.AVPairs
}

// newChallenge builds a Type 2 from server (its NetBIOS name; the DNS name
// is server.corp.example) with a fresh challenge and timestamp.
func (s *script) newChallenge(server string) *challenge {
	s.secret++
	ts := s.now.Add(time.Duration(s.secret) * time.Microsecond)
	info := &ntlm.AVPairs{NbComputerName: server, NbDomainName: "CORP", DnsComputerName: strings.ToLower(server) + ".corp.example",
		DnsDomainName: "corp.example", Timestamp: ts, HasTimestamp: true}
	c := &ntlm.Challenge{Flags: testFlags, TargetName: "CORP", ServerChallenge: secretBytes(s.secret, 8), TargetInfo: info}
	tok := c.Marshal()
	s.secrets = append(s.secrets, c.ServerChallenge, tok)
	return &challenge{server: server, ts: ts, token: tok, info: info}
}

// secretBytes returns n recognisable secret bytes (0xA5 pattern + seed).
func secretBytes(seed byte, n int) ntlm.Secret {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xA5 ^ byte(i*7) ^ seed
	}
	return b
}

// type1 returns a NEGOTIATE message.
func type1() []byte {
	return (&ntlm.Negotiate{Flags: testFlags}).Marshal()
}

// t3opts vary a Type 3.
type t3opts struct {
	kind        ntlm.ResponseKind // default NTLMv2
	noMIC       bool
	cb          bool // non-zero channel bindings
	workstation string
}

// type3 returns an AUTHENTICATE message answering ch (nil: no echo) for
// user "DOMAIN\name", "name@realm" or "" (anonymous).
func (s *script) type3(user string, ch *challenge, o t3opts) []byte {
	s.secret++
	domain, name := "", user
	if d, u, ok := strings.Cut(user, `\`); ok {
		domain, name = d, u
	}
	ws := o.workstation
	if ws == "" {
		ws = "WS01"
	}
	a := &ntlm.Authenticate{Flags: testFlags, Domain: domain, User: name, Workstation: ws,
		EncryptedSessionKey: secretBytes(s.secret+1, 16)}
	switch {
	case user == "":
		a.LMResponse = []byte{0}
	case o.kind == ntlm.ResponseNTLMv1:
		a.LMResponse = secretBytes(s.secret+2, 24)
		a.NTResponse = secretBytes(s.secret+3, 24)
	default:
		pairs := &ntlm.AVPairs{}
		if ch != nil {
			p := *ch.info
			pairs = &p
		}
		pairs.Pairs = nil
		pairs.HasFlags, pairs.Flags = true, 0x2
		if o.noMIC {
			pairs.HasFlags, pairs.Flags = false, 0
		}
		if o.cb {
			pairs.HasChannelBindings = true
			pairs.ChannelBindings = secretBytes(s.secret+4, 16)
		}
		a.ClientBlob = &ntlm.NTLMv2Blob{Timestamp: pairs.Timestamp, Pairs: pairs,
			NTProofStr: secretBytes(s.secret+5, 16), ClientChallenge: secretBytes(s.secret+6, 8)}
		a.LMResponse = make([]byte, 24)
		if !o.noMIC {
			a.MIC = secretBytes(s.secret+7, 16)
			a.Version = &ntlm.Version{Major: 10, Build: 19041, Revision: 15}
		}
	}
	tok := a.Marshal()
	s.secrets = append(s.secrets, a.LMResponse, a.NTResponse, a.EncryptedSessionKey, a.MIC, tok)
	if a.ClientBlob != nil {
		s.secrets = append(s.secrets, a.ClientBlob.NTProofStr)
	}
	return tok
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// ---- DER for Kerberos tokens ----

func der(tag byte, content []byte) []byte {
	n := len(content)
	switch {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, content...)
	case n < 0x100:
		return append([]byte{tag, 0x81, byte(n)}, content...)
	}
	return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, content...)
}

var (
	oidSPNEGO  = []byte{0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}
	oidKrb5    = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
	oidMSKrb5  = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02}
	oidNTLMSSP = []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}
)

// kerberosAPReq returns a GSS-API krb5 token carrying a (dummy) AP-REQ.
func (s *script) kerberosAPReq() []byte {
	s.secret++
	apreq := der(0x6e, der(0x30, append([]byte{0xa0, 0x03, 0x02, 0x01, 0x05}, secretBytes(s.secret, 20)...)))
	inner := append(append(append([]byte{}, oidKrb5...), 0x01, 0x00), apreq...)
	return der(0x60, inner)
}

// spnegoKerberos returns a SPNEGO NegTokenInit whose mechTypes list
// MS-Kerberos, Kerberos and NTLMSSP but whose mechToken is Kerberos, as
// Windows sends it.
func (s *script) spnegoKerberos() []byte {
	mechTypes := der(0xa0, der(0x30, append(append(append([]byte{}, oidMSKrb5...), oidKrb5...), oidNTLMSSP...)))
	mechToken := der(0xa2, der(0x04, s.kerberosAPReq()))
	init := der(0xa0, der(0x30, append(mechTypes, mechToken...)))
	return der(0x60, append(append([]byte{}, oidSPNEGO...), init...))
}

// ---- handshakes ----

// auth names the headers and status of one kind of authentication.
type auth struct {
	proxy     bool
	negotiate bool
}

func (a auth) credHeader() string {
	if a.proxy {
		return "Proxy-Authorization"
	}
	return "Authorization"
}

func (a auth) chalHeader() string {
	if a.proxy {
		return "Proxy-Authenticate"
	}
	return "WWW-Authenticate"
}

func (a auth) status() int {
	if a.proxy {
		return 407
	}
	return 401
}

func (a auth) scheme() string {
	if a.negotiate {
		return "Negotiate"
	}
	return "NTLM"
}

// cred formats a request header with an NTLM message.
func (a auth) cred(msg []byte, first bool) string {
	if a.negotiate {
		if first {
			msg = ntlm.WrapSPNEGOInit(msg)
		} else {
			msg = ntlm.WrapSPNEGOResp(ntlm.NegStateAbsent, msg)
		}
	}
	return a.credHeader() + ": " + a.scheme() + " " + b64(msg)
}

// chal formats a response header with a Type 2.
func (a auth) chal(msg []byte) string {
	if a.negotiate {
		msg = ntlm.WrapSPNEGOResp(ntlm.AcceptIncomplete, msg)
	}
	return a.chalHeader() + ": " + a.scheme() + " " + b64(msg)
}

// offer formats a bare offer.
func (a auth) offer() string {
	if a.negotiate {
		return a.chalHeader() + ": Negotiate"
	}
	return a.chalHeader() + ": NTLM"
}

var (
	server = auth{}
	proxyA = auth{proxy: true}
	negoA  = auth{negotiate: true}
)

// anon sends a request without credentials and gets the bare offer.
func (tc *tconn) anon(a auth, extra ...string) {
	tc.req("GET", "/app", extra...)
	tc.resp(a.status(), a.offer(), "Content-Length: 0")
}

// t1 sends a Type 1 and gets a Type 2 from server; it returns the
// challenge.
func (tc *tconn) t1(a auth, server string, extra ...string) *challenge {
	tc.req("GET", "/app", append([]string{a.cred(type1(), true)}, extra...)...)
	return tc.t2(a, server)
}

// t2 answers the pending Type 1 with a Type 2 from server.
func (tc *tconn) t2(a auth, server string, extra ...string) *challenge {
	ch := tc.s.newChallenge(server)
	tc.resp(a.status(), append([]string{a.chal(ch.token)}, extra...)...)
	tc.lastChallenge = ch
	return ch
}

// t3 sends a Type 3 for user answering ch and gets status (0: no response).
func (tc *tconn) t3(a auth, user string, ch *challenge, status int, o ...t3opts) {
	var opt t3opts
	if len(o) > 0 {
		opt = o[0]
	}
	tc.req("GET", "/app", a.cred(tc.s.type3(user, ch, opt), false))
	if status == 0 {
		return
	}
	if status == a.status() {
		tc.resp(status, a.offer())
	} else {
		tc.resp(status)
	}
}

// login plays a whole handshake: bare request, Type 1, Type 2 from server,
// Type 3 for user answered with status.
func (tc *tconn) login(a auth, server, user string, status int, o ...t3opts) {
	tc.anon(a)
	ch := tc.t1(a, server)
	tc.t3(a, user, ch, status, o...)
}

// get sends n plain requests answered with status.
func (tc *tconn) get(n, status int, extra ...string) {
	for i := 0; i < n; i++ {
		tc.req("GET", "/page/"+itoa(i), extra...)
		tc.resp(status)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
