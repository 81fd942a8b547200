package lab

import (
	"context"
	"fmt"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
)

// Accounts as clients send them, and their passwords.
const (
	alice    = `LAB\alice`
	alicePwd = "Passw0rd!"
	bob      = `LAB\bob`
	bobPwd   = "S3cret-bob"
)

// Verdict and finding codes of the analyzer's report model (analyzer/codes.go),
// spelled out so that the lab does not depend on the analyzer.
const (
	verdictHealthy     = "healthy"
	verdictBalancer    = "balancer-breaks-ntlm"
	verdictClient      = "client-breaks-ntlm"
	verdictCredentials = "credential-failures"
	verdictNoNTLM      = "no-ntlm"
	// The capture holds TLS nobody could read, and no NTLM outside it.
	verdictInconclusive = "inconclusive"

	findingRestarted        = "HANDSHAKE_RESTARTED"
	findingType3NoChallenge = "TYPE3_WITHOUT_CHALLENGE"
	findingClientClosed     = "CLIENT_CLOSED_MID_HANDSHAKE"
	findingServerChanged    = "CHALLENGE_SERVER_CHANGED"
	findingRoutedElsewhere  = "TYPE3_ROUTED_TO_OTHER_BACKEND"
	findingAuthFailed       = "AUTH_FAILED"
	findingInterleaved      = "INTERLEAVED_HANDSHAKES"
)

// gssNTLMSSP is the mechanism gss-ntlmssp registers with GSS-API; with it,
// curl --negotiate sends SPNEGO-wrapped NTLM.
const gssNTLMSSP = "/etc/gss/mech.d/mech.ntlmssp.conf"

// counts is shorthand for one user's expected counts.
func counts(user string, handshakes, succeeded, failed, authenticated int) UserCounts {
	return UserCounts{User: user, Handshakes: handshakes, Succeeded: succeeded, Failed: failed, AuthenticatedRequests: authenticated}
}

// same returns e for every view of a proxied scenario.
func same(e Expect) map[View]Expect {
	return map[View]Expect{ViewClient: e, ViewUpstream: e, ViewBoth: e}
}

// Scenarios returns the lab's scenarios, in order (issue 5, 1 to 8, then the
// optional SPNEGO one, then scenario 3 over HTTPS for issue 9, then a
// forward proxy's CONNECT tunnels, plaintext and HTTPS).
func Scenarios() []*Scenario {
	return []*Scenario{
		{
			Number: 1, Name: "scenario1-direct-keepalive",
			Story: "curl --ntlm fetches three URLs from one backend on one keep-alive connection: " +
				"one handshake, then two requests served on the authenticated connection.",
			Topology: Direct, Backends: 1,
			Clients: func(ctx context.Context, env *Env) error {
				return env.Curl(ctx, 0, alice, nil, "--ntlm", "--user", alice+":"+alicePwd,
					env.URL("/s1/1"), env.URL("/s1/2"), env.URL("/s1/3"))
			},
			Type3Results: []ntlmserver.Result{ntlmserver.ResultAuthenticated},
			Expect: map[View]Expect{ViewClient: {Verdict: verdictHealthy,
				Users: []UserCounts{counts(alice, 1, 1, 0, 2)}}},
		},
		{
			Number: 2, Name: "scenario2-haproxy-keepalive",
			Story: "haproxy mode http (keep-alive), round robin over two backends; two users' browsers " +
				"(alice with NTLM, bob with raw NTLMSSP under Negotiate) take turns. haproxy sees " +
				"WWW-Authenticate: NTLM and keeps each client on its server connection: healthy.",
			Topology: HAProxyKeepAliveRR, Backends: 2,
			Clients: func(ctx context.Context, env *Env) error {
				turns := NewTurnstile(alice, bob)
				a := env.Browser(0, alice, alicePwd)
				b := env.Browser(1, bob, bobPwd)
				b.Scheme = "Negotiate"
				return browse(ctx, env, turns, map[*Browser][]string{
					a: {"/s2/alice/1", "/s2/alice/2", "/s2/alice/3"},
					b: {"/s2/bob/1", "/s2/bob/2", "/s2/bob/3"},
				})
			},
			Type3Results: []ntlmserver.Result{ntlmserver.ResultAuthenticated},
			Expect: same(Expect{Verdict: verdictHealthy,
				Users: []UserCounts{counts(alice, 1, 1, 0, 2), counts(bob, 1, 1, 0, 2)}}),
		},
		{
			Number: 3, Name: "scenario3-balancer-round-robin",
			Story: "haproxy with option http-server-close, round robin over three backends: every " +
				"request gets a new backend connection on the next backend, so each Type 3 reaches " +
				"a connection that issued no challenge. The browser retries three times (401/401).",
			Topology: HAProxyServerClose, Backends: 3,
			Clients:      roundRobinClients("/s3/1", false),
			Type3Results: []ntlmserver.Result{ntlmserver.ResultNoChallenge},
			Expect:       roundRobinExpect(),
		},
		{
			Number: 4, Name: "scenario4-nginx-upstream-keepalive",
			Story: "nginx with upstream keepalive (a pool of idle backend connections shared by all " +
				"clients), round robin over three backends; alice's and bob's browsers take turns, each " +
				"retrying three times. Type 3 messages land on pooled connections that carry no " +
				"challenge or another client's.",
			Topology: NginxKeepalive, Backends: 3,
			Clients: func(ctx context.Context, env *Env) error {
				turns := NewTurnstile(alice, bob)
				a := env.Browser(0, alice, alicePwd)
				b := env.Browser(1, bob, bobPwd)
				a.MaxHandshakes, b.MaxHandshakes = 3, 3
				return browse(ctx, env, turns, map[*Browser][]string{a: {"/s4/alice"}, b: {"/s4/bob"}})
			},
			Type3Results: []ntlmserver.Result{ntlmserver.ResultNoChallenge, ntlmserver.ResultOtherChallenge},
			Expect: map[View]Expect{
				ViewClient: {Verdict: verdictBalancer, Findings: []string{findingRestarted, findingServerChanged},
					Absent: []string{findingClientClosed}, Users: []UserCounts{counts(alice, 3, 0, 3, 0), counts(bob, 3, 0, 3, 0)}},
				// Every Type 3's challenge is in the upstream capture (the
				// Type 3 echoes its server and timestamp): six handshakes.
				ViewUpstream: {Verdict: verdictBalancer, Findings: []string{findingRoutedElsewhere},
					Users: []UserCounts{counts(alice, 3, 0, 3, 0), counts(bob, 3, 0, 3, 0)}},
				ViewBoth: {Verdict: verdictBalancer, Findings: []string{findingRestarted, findingRoutedElsewhere, findingInterleaved},
					Absent: []string{findingClientClosed}, Users: []UserCounts{counts(alice, 3, 0, 3, 0), counts(bob, 3, 0, 3, 0)}},
			},
		},
		{
			Number: 5, Name: "scenario5-wrong-password",
			Story: "A browser with a wrong password, direct to one backend, tries twice on its " +
				"keep-alive connection: each Type 3 answers that connection's own challenge and is " +
				"refused. The credentials, not the path.",
			Topology: Direct, Backends: 1,
			Clients: func(ctx context.Context, env *Env) error {
				a := env.Browser(0, alice, "not-the-password")
				a.MaxHandshakes = 2
				return browse(ctx, env, nil, map[*Browser][]string{a: {"/s5/1"}})
			},
			Type3Results: []ntlmserver.Result{ntlmserver.ResultBadPassword},
			Expect: map[View]Expect{ViewClient: {Verdict: verdictCredentials,
				Findings: []string{findingAuthFailed, findingRestarted},
				Absent: []string{findingServerChanged, findingRoutedElsewhere, findingType3NoChallenge,
					findingClientClosed, findingInterleaved},
				Users: []UserCounts{counts(alice, 2, 0, 2, 0)}}},
		},
		{
			Number: 6, Name: "scenario6-squid-proxy-auth",
			Story: "curl through squid, which demands NTLM proxy authentication (407) with its " +
				"ntlm_fake_auth helper, to an anonymous backend: one proxy handshake, then the " +
				"second URL on the authenticated proxy connection. The upstream leg carries no NTLM.",
			Topology: SquidProxyAuth, Backends: 1, Anonymous: true,
			Clients: squidClient("/s6/"),
			Expect: map[View]Expect{
				ViewClient:   {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 1, 1, 0, 1)}},
				ViewUpstream: {Verdict: verdictNoNTLM, Users: []UserCounts{}},
				ViewBoth:     {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 1, 1, 0, 1)}},
			},
		},
		{
			Number: 7, Name: "scenario7-client-new-connection-per-leg",
			Story: "haproxy mode tcp, round robin over two backends, and a client that opens a new " +
				"connection for every request and closes it after the response: its Type 3 always " +
				"travels on a connection that never carried its challenge. The client splits the " +
				"handshake; haproxy only relays the bytes.",
			Topology: HAProxyTCPRR, Backends: 2,
			Clients: func(ctx context.Context, env *Env) error {
				a := env.Browser(0, alice, alicePwd)
				a.NewConnPerLeg, a.MaxHandshakes = true, 2
				return browse(ctx, env, nil, map[*Browser][]string{a: {"/s7/1"}})
			},
			Type3Results: []ntlmserver.Result{ntlmserver.ResultNoChallenge},
			// haproxy relays each client connection to one backend
			// connection: it moves nothing, on either leg.
			Expect: same(Expect{Verdict: verdictClient, Findings: []string{findingClientClosed, findingType3NoChallenge},
				Absent: []string{findingRoutedElsewhere, findingServerChanged, findingInterleaved},
				Users:  []UserCounts{counts(alice, 2, 0, 2, 0)}}),
		},
		{
			Number: 8, Name: "scenario8-one-handshake-many-requests",
			Story: "A browser authenticates once, direct to one backend, then fetches 19 more pages " +
				"on the same connection without credentials: the connection stays authenticated.",
			Topology: Direct, Backends: 1,
			Clients: func(ctx context.Context, env *Env) error {
				a := env.Browser(0, alice, alicePwd)
				var paths []string
				for i := 1; i <= 20; i++ {
					paths = append(paths, fmt.Sprintf("/s8/%d", i))
				}
				return browse(ctx, env, nil, map[*Browser][]string{a: paths})
			},
			Type3Results: []ntlmserver.Result{ntlmserver.ResultAuthenticated},
			Expect: map[View]Expect{ViewClient: {Verdict: verdictHealthy,
				Users: []UserCounts{counts(alice, 1, 1, 0, 19)}}},
		},
		{
			Number: 9, Name: "scenario9-curl-negotiate-spnego",
			Story: "curl --negotiate with gss-ntlmssp sends NTLM wrapped in SPNEGO under Negotiate, " +
				"direct to one backend, which answers in kind: one handshake, one more request on " +
				"the authenticated connection.",
			Topology: Direct, Backends: 1, Needs: []string{gssNTLMSSP},
			Clients: func(ctx context.Context, env *Env) error {
				// gss-ntlmssp reads credentials from NTLM_USER_FILE: DOMAIN:user:password.
				file, err := env.WriteFile("ntlm-users", "LAB:alice:"+alicePwd+"\n")
				if err != nil {
					return err
				}
				return env.Curl(ctx, 0, alice, []string{"NTLM_USER_FILE=" + file}, "--negotiate", "--user", ":",
					env.URL("/s9/1"), env.URL("/s9/2"))
			},
			Type3Results: []ntlmserver.Result{ntlmserver.ResultAuthenticated},
			Expect: map[View]Expect{ViewClient: {Verdict: verdictHealthy,
				Users: []UserCounts{counts(alice, 1, 1, 0, 1)}}},
		},
		{
			Number: 10, Name: "scenario10-balancer-round-robin-https",
			Story: "Scenario 3 over HTTPS (issue 9): haproxy terminates TLS on the frontend and talks " +
				"plaintext to three backends, option http-server-close, round robin. The browser " +
				"retries three times and writes its TLS secrets to a key log (SSLKEYLOGFILE): with " +
				"it, the client leg says what scenario 3's plaintext client leg says.",
			Topology: HAProxyTLSServerClose, Backends: 3,
			Clients:      roundRobinClients("/s10/1", true),
			Type3Results: []ntlmserver.Result{ntlmserver.ResultNoChallenge},
			// Scenario 3's, view for view: TLS must change nothing
			// ntlmscope says once the key log is given.
			Expect: roundRobinExpect(),
			// Without it the client leg is TLS nobody can read, and both
			// legs say what the plaintext upstream leg says alone.
			WithoutKeyLog: map[View]Expect{
				ViewClient:   {Verdict: verdictInconclusive, Users: []UserCounts{}},
				ViewUpstream: roundRobinExpect()[ViewUpstream],
				ViewBoth:     roundRobinExpect()[ViewUpstream],
			},
		},
		{
			Number: 11, Name: "scenario11-squid-connect-proxy-auth",
			Story: "Scenario 6 through a tunnel: curl --proxytunnel asks squid to CONNECT to the " +
				"backend, authenticates the CONNECT with NTLM (407), then sends both URLs inside " +
				"the one tunnel. The upstream leg is the tunnel's bytes, with no NTLM.",
			Topology: SquidProxyAuth, Backends: 1, Anonymous: true,
			Clients: squidClient("/s11/", "--proxytunnel"),
			Expect: map[View]Expect{
				ViewClient:   {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 1, 1, 0, 2)}, Tunnel: "http/1.1"},
				ViewUpstream: {Verdict: verdictNoNTLM, Users: []UserCounts{}},
				ViewBoth:     {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 1, 1, 0, 2)}, Tunnel: "http/1.1"},
			},
		},
		{
			Number: 12, Name: "scenario12-squid-connect-https-backend",
			Story: "Outlook Anywhere's path through a forward proxy: curl authenticates a CONNECT to " +
				"squid with NTLM (407), then, inside the tunnel, speaks TLS to an HTTPS backend that " +
				"wants NTLM too: a second handshake, on the same client connection, that only the " +
				"key log shows. The proxy relays the TLS session, so the key log decrypts the " +
				"upstream leg as well.",
			Topology: SquidProxyAuth, Backends: 1, BackendTLS: true,
			Clients: func(ctx context.Context, env *Env) error {
				return env.Curl(ctx, 0, alice, []string{"SSLKEYLOGFILE=" + env.keyLog}, "--insecure", "--http1.1",
					"--proxy", env.ProxyURL(), "--proxy-ntlm", "--proxy-user", alice+":"+alicePwd,
					"--ntlm", "--user", alice+":"+alicePwd, env.URL("/s12/1"), env.URL("/s12/2"))
			},
			Type3Results: []ntlmserver.Result{ntlmserver.ResultAuthenticated},
			// The second URL is served on the strength of both handshakes
			// and counts once, for the server's; the first URL's requests
			// are the server handshake's own. The upstream leg is read with
			// the client leg's key log (viewKeyLogs).
			Expect: map[View]Expect{
				ViewClient:   {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 2, 2, 0, 1)}, Tunnel: "tls"},
				ViewUpstream: {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 1, 1, 0, 1)}},
				ViewBoth:     {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 2, 2, 0, 1)}, Tunnel: "tls"},
			},
			// Without the key log only the proxy's handshake is seen, and
			// the upstream leg is TLS nobody can read.
			WithoutKeyLog: map[View]Expect{
				ViewClient:   {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 1, 1, 0, 0)}, Tunnel: "tls"},
				ViewUpstream: {Verdict: verdictInconclusive, Users: []UserCounts{}},
				ViewBoth:     {Verdict: verdictHealthy, Users: []UserCounts{counts(alice, 1, 1, 0, 0)}, Tunnel: "tls"},
			},
		},
	}
}

// roundRobinClients is the client of scenarios 3 and 10: one browser that
// fetches path and retries the handshake three times, over HTTPS with the
// scenario's key log when https is set.
func roundRobinClients(path string, https bool) func(context.Context, *Env) error {
	return func(ctx context.Context, env *Env) error {
		a := env.Browser(0, alice, alicePwd)
		a.MaxHandshakes = 3
		if https {
			a.TLS = env.TLSConfig()
		}
		return browse(ctx, env, nil, map[*Browser][]string{a: {path}})
	}
}

// roundRobinExpect is what scenarios 3 and 10 must yield: every Type 3
// reaches a backend connection that issued no challenge.
func roundRobinExpect() map[View]Expect {
	return map[View]Expect{
		ViewClient: {Verdict: verdictBalancer, Findings: []string{findingRestarted, findingServerChanged},
			Absent: []string{findingClientClosed}, Users: []UserCounts{counts(alice, 3, 0, 3, 0)}},
		// Alone, the upstream leg shows haproxy (a proxy: it adds
		// X-Forwarded-For) closing each connection after the Type 2.
		ViewUpstream: {Verdict: verdictBalancer, Findings: []string{findingType3NoChallenge},
			Users: []UserCounts{counts(alice, 3, 0, 3, 0)}},
		ViewBoth: {Verdict: verdictBalancer, Findings: []string{findingRestarted, findingRoutedElsewhere},
			Absent: []string{findingClientClosed}, Users: []UserCounts{counts(alice, 3, 0, 3, 0)}},
	}
}

// browse runs each browser's requests in order, the browsers concurrently
// (taking turns when turns is set), and records what they did.
func browse(ctx context.Context, env *Env, turns *Turnstile, paths map[*Browser][]string) error {
	var fns []func() error
	for b, ps := range paths {
		b.Turns = turns
		fns = append(fns, func() error {
			defer env.Done(b)
			defer turns.Leave(b.Name)
			for _, p := range ps {
				if _, err := b.Get(ctx, env.URL(p)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return runAll(fns...)
}

// squidClient is the client of scenarios 6 and 11: curl authenticates to
// squid with NTLM (with extra flags) and fetches prefix+"1" and prefix+"2".
func squidClient(prefix string, extra ...string) func(context.Context, *Env) error {
	return func(ctx context.Context, env *Env) error {
		args := append([]string{"--proxy", env.ProxyURL(), "--proxy-ntlm"}, extra...)
		args = append(args, "--proxy-user", alice+":"+alicePwd, env.URL(prefix+"1"), env.URL(prefix+"2"))
		return env.Curl(ctx, 0, alice, nil, args...)
	}
}
