package report

import (
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// Hand-built report models for the renderer tests: fixed times, sorted
// lists, shaped like the analyzer's output but independent of its
// changes. Each names a verdict the renderers must present well.

var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// at returns t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func fixtures() map[string]func() *analyzer.Report {
	return map[string]func() *analyzer.Report{
		"balancer":    balancerReport,
		"healthy":     healthyReport,
		"credentials": credentialsReport,
		"no-ntlm":     noNTLMReport,
		"tunnel":      tunnelReport,
	}
}

func baseReport(packets int64, first, last time.Time) *analyzer.Report {
	return &analyzer.Report{
		Schema: analyzer.Schema,
		Tool:   analyzer.Tool{Name: "ntlmscope", Version: "test"},
		Source: analyzer.Source{Files: []string{"lab.pcapng"}, Packets: packets, Bytes: packets * 300,
			FirstSeen: first, LastSeen: last, TCPConnections: 4},
		Verdict: analyzer.Verdict{Remedies: []string{}, Causes: map[string]int{analyzer.CauseBalancer: 0,
			analyzer.CauseClient: 0, analyzer.CauseCredentials: 0, analyzer.CauseUnknown: 0}},
		Users: []analyzer.User{}, Backends: []analyzer.Backend{}, Connections: []analyzer.Connection{},
		Findings: []analyzer.Finding{},
	}
}

// hs builds a handshake whose four steps are frames f, f+1, f+2, f+3 at
// ms, ms+1, ms+2, ms+3.
func hs(id int, user, identity, outcome string, conns []int, f int64, ms int, status int) analyzer.Handshake {
	domain, name := "CORP", user
	return analyzer.Handshake{ID: id, Scheme: "NTLM", Outcome: outcome, Client: clientOf(user),
		User: domain + `\` + name, Domain: domain, Workstation: "WS-" + name, ServerIdentity: identity,
		NTLMVersion: "NTLMv2", Frames: analyzer.HandshakeFrames{Type1: f, Type2: f + 1, Type3: f + 2, Final: f + 3},
		Times:  analyzer.HandshakeTimes{Type1: at(ms), Type2: at(ms + 1), Type3: at(ms + 2), Final: at(ms + 3)},
		Status: status, Connections: conns, DurationMs: 3}
}

func clientOf(user string) string {
	if user == "bob" {
		return "10.0.0.6"
	}
	return "10.0.0.5"
}

// ex builds an exchange: request frame f at ms, response frame f+1 at
// ms+1.
func ex(method, target, reqAuth string, status int, respAuth string, f int64, ms, handshake int) analyzer.Exchange {
	return analyzer.Exchange{Method: method, Target: target, RequestFrame: f, RequestTime: at(ms), RequestAuth: reqAuth,
		Status: status, ResponseFrame: f + 1, ResponseTime: at(ms + 1), ResponseAuth: respAuth, Handshake: handshake}
}

func conn(id, stream int, client string, users []string, state, ended string, start, end int) analyzer.Connection {
	return analyzer.Connection{ID: id, TCPStream: stream, Client: client, Server: "10.0.0.100:80", Leg: analyzer.LegClient,
		Linked: []int{}, Start: at(start), End: at(end), Ended: ended, Statuses: map[string]int{}, Users: users,
		State: state, Handshakes: []analyzer.Handshake{}, Findings: []string{}}
}

// balancerReport: the lab's broken balancer. Alice's first handshake is
// split (the balancer closed the server side after the Type 2) and she
// retries with success; Bob's Type 3 is routed to the other backend.
func balancerReport() *analyzer.Report {
	r := baseReport(40, t0, at(12_000))
	h1 := hs(1, "alice", "web01.corp.example", analyzer.OutcomeFailed, []int{0, 1}, 6, 10, 401)
	h1.Cause, h1.Evidence = analyzer.CauseBalancer, analyzer.CodeConnectionClosedMidHS
	h1.Frames.Type3, h1.Frames.Final = 10, 11
	h1.Times.Type3, h1.Times.Final = at(1_510), at(1_511)
	h1.DurationMs = 1_501
	h2 := hs(2, "alice", "web02.corp.example", analyzer.OutcomeSucceeded, []int{1}, 12, 1_520, 200)
	h2.AuthenticatedRequests = 1
	h3 := hs(3, "bob", "web02.corp.example", analyzer.OutcomeFailed, []int{2}, 22, 3_010, 401)
	h3.Cause, h3.Evidence = analyzer.CauseBalancer, analyzer.CodeType3RoutedToOtherBackend
	h4 := hs(4, "bob", "web01.corp.example", analyzer.OutcomeSucceeded, []int{3}, 30, 9_010, 200)

	c0 := conn(0, 0, "10.0.0.5:50000", []string{`CORP\alice`}, analyzer.StateMidHandshake, "fin", 0, 20)
	c0.Requests, c0.Responses, c0.Statuses = 2, 2, map[string]int{"401": 2}
	c0.Handshakes = []analyzer.Handshake{h1}
	c0.Exchanges = []analyzer.Exchange{
		ex("GET", "/app/?session=Q-SECRET-1", "", 401, "NTLM offer", 4, 5, -1),
		ex("GET", "/app/?session=Q-SECRET-1", "NTLM type1", 401, "NTLM type2", 6, 10, 0),
	}
	c1 := conn(1, 1, "10.0.0.5:50001", []string{`CORP\alice`}, analyzer.StateAuthenticated, "capture_end", 1_500, 12_000)
	c1.Requests, c1.Responses, c1.Statuses, c1.AuthenticatedRequests = 4, 4, map[string]int{"200": 2, "401": 2}, 1
	c1.Handshakes = []analyzer.Handshake{h1, h2}
	c1.Exchanges = []analyzer.Exchange{
		ex("GET", "/app/", "NTLM type3", 401, "NTLM offer", 10, 1_510, 0),
		ex("GET", "/app/", "NTLM type1", 401, "NTLM type2", 12, 1_520, 1),
		ex("GET", "/app/", "NTLM type3", 200, "", 14, 1_522, 1),
		ex("GET", "/app/style.css", "", 200, "", 16, 4_000, -1),
	}
	c2 := conn(2, 2, "10.0.0.6:50100", []string{`CORP\bob`}, analyzer.StateUnauthenticated, "fin", 3_000, 3_020)
	c2.Requests, c2.Responses, c2.Statuses = 2, 2, map[string]int{"401": 2}
	c2.Handshakes = []analyzer.Handshake{h3}
	c2.Exchanges = []analyzer.Exchange{
		ex("POST", "/ews/exchange.asmx", "NTLM type1", 401, "NTLM type2", 22, 3_010, 0),
		ex("POST", "/ews/exchange.asmx", "NTLM type3", 401, "NTLM offer", 24, 3_012, 0),
	}
	c3 := conn(3, 4, "10.0.0.6:50101", []string{`CORP\bob`}, analyzer.StateAuthenticated, "capture_end", 9_000, 12_000)
	c3.Requests, c3.Responses, c3.Statuses = 2, 2, map[string]int{"200": 1, "401": 1}
	c3.Handshakes = []analyzer.Handshake{h4}
	c3.Exchanges = []analyzer.Exchange{
		ex("POST", "/ews/exchange.asmx", "NTLM type1", 401, "NTLM type2", 30, 9_010, 0),
		ex("POST", "/ews/exchange.asmx", "NTLM type3", 200, "", 32, 9_012, 0),
	}
	c0.Findings = []string{analyzer.CodeChallengeServerChanged, analyzer.CodeConnectionClosedMidHS,
		analyzer.CodeHandshakeRestarted, analyzer.CodeType3WithoutChallenge}
	c1.Findings = c0.Findings
	c2.Findings = []string{analyzer.CodeHandshakeRestarted, analyzer.CodeType3RoutedToOtherBackend}
	c3.Findings = []string{analyzer.CodeHandshakeRestarted}
	r.Connections = []analyzer.Connection{c0, c1, c2, c3}

	r.Summary = analyzer.Summary{Connections: 4, NTLMConnections: 4, HTTPRequests: 10, HTTPResponses: 10, Handshakes: 4,
		HandshakesSucceeded: 2, HandshakesFailed: 2, HandshakesSplit: 1, AuthenticatedRequests: 1, AuthOffers: 3,
		AuthChallenges: 4, Users: 2}
	r.Verdict.Code = analyzer.VerdictBalancer
	r.Verdict.Title = analyzer.VerdictTitles[analyzer.VerdictBalancer]
	r.Verdict.Explanation = "4 NTLM handshake(s): 2 succeeded, 2 failed, 0 abandoned, 0 incomplete (capture ended; not judged). " +
		"Causes of the 2 failed or abandoned: balancer 2. Strongest evidence (CONNECTION_CLOSED_MID_HANDSHAKE): the server " +
		"side closed connection 0 after its Type 2 (frame 7); the client sent the Type 3 on connection 1, where no backend knows the challenge."
	r.Verdict.Remedies = []string{
		"Pin each client to one backend: persistence (sticky sessions) by source IP, or by cookie when clients share an address.",
		"Disable upstream connection multiplexing/reuse for NTLM traffic, so each client connection keeps its own backend connection.",
		"Keep connections alive end to end during the handshake: no Connection: close and no server-side close after a 401 carrying a Type 2.",
	}
	r.Verdict.Causes[analyzer.CauseBalancer] = 2
	r.Users = []analyzer.User{
		{Name: `CORP\alice`, Domain: "CORP", User: "alice", Workstations: []string{"WS-alice"}, Clients: []string{"10.0.0.5"},
			Handshakes: 2, Succeeded: 1, Failed: 1, Restarts: 1, Connections: 2, ConnectionIDs: []int{0, 1}, Requests: 6,
			AuthenticatedRequests: 1, FirstSeen: at(10), LastSeen: at(1_523), TimeInHandshakesMs: 1_504},
		{Name: `CORP\bob`, Domain: "CORP", User: "bob", Workstations: []string{"WS-bob"}, Clients: []string{"10.0.0.6"},
			Handshakes: 2, Succeeded: 1, Failed: 1, Restarts: 1, Connections: 2, ConnectionIDs: []int{2, 3}, Requests: 4,
			FirstSeen: at(3_010), LastSeen: at(9_013), TimeInHandshakesMs: 6},
	}
	r.Backends = []analyzer.Backend{
		{Identity: "web01.corp.example", Servers: []string{"10.0.0.100:80"}, Handshakes: 2, Succeeded: 1, Failed: 1},
		{Identity: "web02.corp.example", Servers: []string{"10.0.0.100:80"}, Handshakes: 2, Succeeded: 1, Failed: 1},
	}
	r.Findings = []analyzer.Finding{
		finding(analyzer.CodeChallengeServerChanged, []int{0, 1}, []int{0, 1}, []int64{7, 13}, 1, 10,
			"client 10.0.0.5 retried 1 time; its Type 2 messages came from 2 server identities (web01.corp.example, web02.corp.example): the balancer sends the retries to different backends", `CORP\alice`),
		finding(analyzer.CodeConnectionClosedMidHS, []int{0, 1}, []int{0, 1}, []int64{6, 7, 10, 11}, 1, 10,
			"the server side closed connection 0 after its Type 2 (frame 7); the client sent the Type 3 on connection 1, where no backend knows the challenge", `CORP\alice`),
		finding(analyzer.CodeHandshakeRestarted, []int{0, 1, 2, 3}, []int{0, 1, 2, 4}, []int64{6, 7, 10, 11, 12, 22, 30}, 2, 10,
			"2 handshakes failed and the same clients started new ones within 6 s", `CORP\alice`, `CORP\bob`),
		finding(analyzer.CodeType3WithoutChallenge, []int{0, 1}, []int{0, 1}, []int64{6, 7, 10, 11}, 1, 10,
			`the Type 3 of CORP\alice (frame 10, connection 1) answers the Type 2 of connection 0 (frame 7): the handshake was split across connections`, `CORP\alice`),
		finding(analyzer.CodeType3RoutedToOtherBackend, []int{2}, []int{2}, []int64{23, 24, 25}, 1, 3_010,
			"the Type 3 on connection 2 answers a challenge of web02.corp.example but reached web01.corp.example (X-BEServer differs)", `CORP\bob`),
	}
	return r
}

func finding(code string, conns, streams []int, frames []int64, count, ms int, msg string, users ...string) analyzer.Finding {
	return analyzer.Finding{Code: code, Severity: analyzer.Codes[code].Severity, Title: analyzer.Codes[code].Title,
		Connections: conns, TCPStreams: streams, StreamFiles: make([]int, len(streams)), Files: []int{0},
		Frames: frames, FrameFiles: make([]int, len(frames)), Count: count, Time: at(ms), Message: msg, Users: users}
}

// healthyReport: one user, one handshake, then authenticated requests.
func healthyReport() *analyzer.Report {
	r := baseReport(14, t0, at(2_000))
	h := hs(1, "alice", "web01.corp.example", analyzer.OutcomeSucceeded, []int{0}, 4, 10, 200)
	h.AuthenticatedRequests = 2
	c := conn(0, 0, "10.0.0.5:50000", []string{`CORP\alice`}, analyzer.StateAuthenticated, "fin", 0, 2_000)
	c.Requests, c.Responses, c.Statuses, c.AuthenticatedRequests = 4, 4, map[string]int{"200": 3, "401": 1}, 2
	c.Handshakes = []analyzer.Handshake{h}
	c.Exchanges = []analyzer.Exchange{
		ex("GET", "/", "NTLM type1", 401, "NTLM type2", 4, 10, 0),
		ex("GET", "/", "NTLM type3", 200, "", 6, 12, 0),
		ex("GET", "/report?id=42", "", 200, "", 8, 1_500, -1),
	}
	r.Connections = []analyzer.Connection{c}
	r.Summary = analyzer.Summary{Connections: 1, NTLMConnections: 1, HTTPRequests: 4, HTTPResponses: 4, Handshakes: 1,
		HandshakesSucceeded: 1, AuthenticatedRequests: 2, AuthChallenges: 1, Users: 1}
	r.Verdict.Code, r.Verdict.Title = analyzer.VerdictHealthy, analyzer.VerdictTitles[analyzer.VerdictHealthy]
	r.Verdict.Explanation = "1 NTLM handshake(s): 1 succeeded, 0 failed, 0 abandoned, 0 incomplete (capture ended; not judged)."
	r.Users = []analyzer.User{{Name: `CORP\alice`, Domain: "CORP", User: "alice", Workstations: []string{"WS-alice"},
		Clients: []string{"10.0.0.5"}, Handshakes: 1, Succeeded: 1, Connections: 1, ConnectionIDs: []int{0}, Requests: 4,
		AuthenticatedRequests: 2, FirstSeen: at(10), LastSeen: at(1_501), TimeInHandshakesMs: 3}}
	r.Backends = []analyzer.Backend{{Identity: "web01.corp.example", Servers: []string{"10.0.0.100:80"}, Handshakes: 1, Succeeded: 1}}
	return r
}

// credentialsReport: the same user fails three times from one client with
// nothing wrong on the path.
func credentialsReport() *analyzer.Report {
	r := baseReport(30, t0, at(65_000))
	c := conn(0, 3, "10.0.0.5:50000", []string{`CORP\alice`}, analyzer.StateUnauthenticated, "fin", 0, 65_000)
	for i := range 3 {
		h := hs(i+1, "alice", "web01.corp.example", analyzer.OutcomeFailed, []int{0}, int64(4+4*i), 20_000*i+10, 401)
		h.Cause, h.Evidence = analyzer.CauseCredentials, analyzer.CodeAuthFailed
		c.Handshakes = append(c.Handshakes, h)
		c.Exchanges = append(c.Exchanges,
			ex("GET", "/", "NTLM type1", 401, "NTLM type2", int64(4+4*i), 20_000*i+10, i),
			ex("GET", "/", "NTLM type3", 401, "NTLM offer", int64(6+4*i), 20_000*i+12, i))
	}
	c.Requests, c.Responses, c.Statuses = 6, 6, map[string]int{"401": 6}
	c.Findings = []string{analyzer.CodeAuthFailed, analyzer.CodeHandshakeRestarted}
	r.Connections = []analyzer.Connection{c}
	r.Summary = analyzer.Summary{Connections: 1, NTLMConnections: 1, HTTPRequests: 6, HTTPResponses: 6, Handshakes: 3,
		HandshakesFailed: 3, AuthChallenges: 3, Users: 1}
	r.Verdict.Code, r.Verdict.Title = analyzer.VerdictCredentials, analyzer.VerdictTitles[analyzer.VerdictCredentials]
	r.Verdict.Explanation = "3 NTLM handshake(s): 0 succeeded, 3 failed, 0 abandoned, 0 incomplete (capture ended; not judged). " +
		"Causes of the 3 failed or abandoned: credentials 3. Strongest evidence (AUTH_FAILED): CORP\\alice failed 3 time(s) from 10.0.0.5 on web01.corp.example."
	r.Verdict.Remedies = []string{"Check the account of each failing user: password, lockout, expiry, logon hours and the workstations it may log on from."}
	r.Verdict.Causes[analyzer.CauseCredentials] = 3
	r.Users = []analyzer.User{{Name: `CORP\alice`, Domain: "CORP", User: "alice", Workstations: []string{"WS-alice"},
		Clients: []string{"10.0.0.5"}, Handshakes: 3, Failed: 3, Restarts: 2, Connections: 1, ConnectionIDs: []int{0},
		Requests: 6, FirstSeen: at(10), LastSeen: at(40_013), TimeInHandshakesMs: 9}}
	r.Backends = []analyzer.Backend{{Identity: "web01.corp.example", Servers: []string{"10.0.0.100:80"}, Handshakes: 3, Failed: 3}}
	r.Findings = []analyzer.Finding{
		finding(analyzer.CodeAuthFailed, []int{0}, []int{3}, []int64{7, 11, 15}, 3, 10,
			`CORP\alice failed 3 time(s) from 10.0.0.5 on web01.corp.example with nothing wrong on the path`, `CORP\alice`),
		finding(analyzer.CodeHandshakeRestarted, []int{0}, []int{3}, []int64{8, 12}, 2, 20_010,
			"10.0.0.5's handshake failed (credentials); the client started a new one on the same connection 20 s later", `CORP\alice`),
	}
	return r
}

// noNTLMReport: HTTP with Kerberos only.
func noNTLMReport() *analyzer.Report {
	r := baseReport(26, t0, at(300))
	c := conn(0, 1, "10.0.0.5:50000", []string{}, analyzer.StateKerberos, "fin", 0, 300)
	c.Requests, c.Responses, c.Statuses = 1, 1, map[string]int{"200": 1}
	c.Exchanges = []analyzer.Exchange{ex("GET", "/", "Kerberos", 200, "Kerberos", 4, 10, -1)}
	c.Findings = []string{analyzer.CodeKerberosInUse}
	r.Connections = []analyzer.Connection{c}
	r.Summary = analyzer.Summary{Connections: 1, HTTPRequests: 1, HTTPResponses: 1, KerberosExchanges: 1}
	r.Verdict.Code, r.Verdict.Title = analyzer.VerdictNoNTLM, analyzer.VerdictTitles[analyzer.VerdictNoNTLM]
	r.Verdict.Explanation = "No NTLM handshake in 1 HTTP connection(s). Kerberos is in use: 1 request(s) carried Kerberos tokens."
	r.Findings = []analyzer.Finding{finding(analyzer.CodeKerberosInUse, []int{0}, []int{1}, []int64{}, 1, 10,
		"1 request(s) on 1 connection(s) carried Kerberos tokens: counted apart, not NTLM")}
	return r
}

// tunnelReport: Outlook through a forward proxy. Alice authenticates to
// the proxy on her CONNECT, and the TLS inside the tunnel went by without
// keys; Bob reached the server over HTTPS with a key log, decrypted.
func tunnelReport() *analyzer.Report {
	r := baseReport(40, t0, at(3_000))
	r.Source.TLSConnections, r.Source.TLSDecrypted, r.Source.TLSWithoutKeys = 2, 1, 1
	proxied := hs(1, "alice", "", analyzer.OutcomeSucceeded, []int{0}, 4, 10, 200)
	proxied.Proxy = true
	c0 := conn(0, 0, "10.0.0.5:50000", []string{`CORP\alice`}, analyzer.StateAuthenticated, "fin", 0, 3_000)
	c0.Server, c0.Tunnel = "10.0.0.8:3128", "tls"
	c0.Requests, c0.Responses, c0.Statuses = 2, 2, map[string]int{"200": 1, "407": 1}
	c0.Handshakes = []analyzer.Handshake{proxied}
	c0.Exchanges = []analyzer.Exchange{
		ex("CONNECT", "mail.corp.example:443", "NTLM type1", 407, "NTLM type2", 4, 10, 0),
		ex("CONNECT", "mail.corp.example:443", "NTLM type3", 200, "", 6, 12, 0),
	}
	c0.Exchanges[0].Proxy, c0.Exchanges[1].Proxy = true, true
	direct := hs(2, "bob", "mail.corp.example", analyzer.OutcomeSucceeded, []int{1}, 20, 100, 200)
	direct.AuthenticatedRequests = 1
	c1 := conn(1, 1, "10.0.0.6:50001", []string{`CORP\bob`}, analyzer.StateAuthenticated, "fin", 90, 2_000)
	c1.Server, c1.Decrypted = "10.0.0.100:443", true
	c1.Requests, c1.Responses, c1.Statuses, c1.AuthenticatedRequests = 3, 3, map[string]int{"200": 2, "401": 1}, 1
	c1.Handshakes = []analyzer.Handshake{direct}
	c1.Exchanges = []analyzer.Exchange{
		ex("POST", "/ews/exchange.asmx", "NTLM type1", 401, "NTLM type2", 20, 100, 0),
		ex("POST", "/ews/exchange.asmx", "NTLM type3", 200, "", 22, 102, 0),
		ex("POST", "/ews/exchange.asmx", "", 200, "", 24, 1_000, -1),
	}
	r.Connections = []analyzer.Connection{c0, c1}
	r.Summary = analyzer.Summary{Connections: 2, NTLMConnections: 2, HTTPRequests: 5, HTTPResponses: 5, Handshakes: 2,
		HandshakesSucceeded: 2, AuthenticatedRequests: 1, AuthChallenges: 2, Users: 2}
	r.Verdict.Code, r.Verdict.Title = analyzer.VerdictHealthy, analyzer.VerdictTitles[analyzer.VerdictHealthy]
	r.Verdict.Explanation = "1 TLS connection(s) could not be decrypted, so most of the traffic (and any NTLM in it) was not seen. " +
		"2 NTLM handshake(s): 2 succeeded, 0 failed, 0 abandoned, 0 incomplete (capture ended; not judged)."
	r.Users = []analyzer.User{
		{Name: `CORP\alice`, Domain: "CORP", User: "alice", Workstations: []string{"WS-alice"}, Clients: []string{"10.0.0.5"},
			Handshakes: 1, Succeeded: 1, Connections: 1, ConnectionIDs: []int{0}, Requests: 2, FirstSeen: at(10),
			LastSeen: at(13), TimeInHandshakesMs: 3},
		{Name: `CORP\bob`, Domain: "CORP", User: "bob", Workstations: []string{"WS-bob"}, Clients: []string{"10.0.0.6"},
			Handshakes: 1, Succeeded: 1, Connections: 1, ConnectionIDs: []int{1}, Requests: 3, AuthenticatedRequests: 1,
			FirstSeen: at(100), LastSeen: at(1_001), TimeInHandshakesMs: 3},
	}
	r.Backends = []analyzer.Backend{{Identity: "mail.corp.example", Servers: []string{"10.0.0.100:443"}, Handshakes: 1, Succeeded: 1}}
	return r
}
