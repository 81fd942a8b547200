package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
)

// Topology is what stands between the clients and the backends.
type Topology string

// Topologies.
const (
	Direct             Topology = "direct"
	HAProxyKeepAliveRR Topology = "haproxy-http-keep-alive"
	HAProxyServerClose Topology = "haproxy-http-server-close"
	HAProxyTCPRR       Topology = "haproxy-tcp"
	NginxKeepalive     Topology = "nginx-upstream-keepalive"
	SquidProxyAuth     Topology = "squid-proxy-auth"
)

// View is which legs of a scenario's traffic one analysis reads.
type View string

// Views. A direct scenario has only the client leg.
const (
	ViewClient   View = "client"   // client ↔ balancer (or server)
	ViewUpstream View = "upstream" // balancer ↔ backends
	ViewBoth     View = "both"     // both files in one run
)

// Expect is what ntlmscope's report must say for one view of a scenario.
// Verdict and finding codes are those of the analyzer's report model.
type Expect struct {
	Verdict string
	// Findings must all be present; others may be too.
	Findings []string
	// Absent findings would blame the wrong party or report what did not
	// happen.
	Absent []string
	// Users are report.users[], exactly. The lab's clients answer every
	// Type 2, so no handshake is abandoned and none is "(unknown)".
	Users []UserCounts
	// Tunnel is what the CONNECT tunnels of the view carried
	// (connections[].tunnel, the same for all); "" when the view has none.
	Tunnel string
}

// Scenario is one lab scenario: the setup, the clients' script, and what
// must come out of it.
type Scenario struct {
	Number int
	// Name is the file stem of its captures in testdata/lab.
	Name string
	// Story says what happens and why the verdict follows.
	Story    string
	Topology Topology
	// Backends is the number of NTLM servers (WEB01 …).
	Backends int
	// Anonymous backends serve without authentication (the proxy
	// authenticates).
	Anonymous bool
	// BackendTLS backends serve HTTPS (a throwaway certificate). Through
	// SquidProxyAuth the clients reach them in CONNECT tunnels, TLS from
	// end to end: the proxy relays the client's TLS sessions, so the
	// client leg's key log decrypts both legs.
	BackendTLS bool
	// Needs lists extra programs or files the scenario needs beyond
	// the lab's (Check); a missing one skips the scenario.
	Needs []string
	// Clients drives the clients; it returns once they are done.
	Clients func(ctx context.Context, env *Env) error
	// Type3Results are the results the backends may give a Type 3 (the
	// ground truth of where each Type 3 landed); empty when no Type 3
	// reaches a backend.
	Type3Results []ntlmserver.Result
	// Expect holds, per view, what the report must say.
	Expect map[View]Expect
	// WithoutKeyLog holds, for an HTTPS scenario (TLS), what the client
	// and both views must say when read without the clients' key log.
	WithoutKeyLog map[View]Expect
}

// Views returns the views the scenario has, in a fixed order.
func (s *Scenario) Views() []View {
	if s.Topology == Direct {
		return []View{ViewClient}
	}
	return []View{ViewClient, ViewUpstream, ViewBoth}
}

// Env is what a scenario's clients need: addresses and a place to report
// what they did.
type Env struct {
	net        Net
	topology   Topology
	backendTLS bool
	dir        string
	// keyLog is where HTTPS clients append their TLS secrets.
	keyLog string

	mu   sync.Mutex
	legs []ClientLeg
}

// URL returns the URL a client fetches for path: through the balancer, or
// the first backend's for direct and forward-proxy scenarios.
func (e *Env) URL(path string) string {
	switch e.topology {
	case Direct, SquidProxyAuth:
		if e.backendTLS {
			return "https://" + e.net.Backend(0) + path
		}
		return "http://" + e.net.Backend(0) + path
	case HAProxyTLSServerClose:
		return "https://" + e.net.Frontend() + path
	}
	return "http://" + e.net.Frontend() + path
}

// WriteFile writes a file the clients need into the scenario's directory
// and returns its path.
func (e *Env) WriteFile(name, content string) (string, error) {
	path := filepath.Join(e.dir, name)
	return path, os.WriteFile(path, []byte(content), 0o600)
}

// ProxyURL returns the forward proxy's URL.
func (e *Env) ProxyURL() string { return "http://" + e.net.Frontend() }

// Browser returns a browser-like client for account (DOMAIN\user) with
// password, on the address of client i.
func (e *Env) Browser(i int, account, password string) *Browser {
	return &Browser{User: account, Password: password, LocalIP: e.net.Client(i),
		Workstation: fmt.Sprintf("PC%02d", i+1), Name: account}
}

// Done records a browser's requests and closes its connections.
func (e *Env) Done(b *Browser) {
	b.Close()
	e.record(b.Legs())
}

// Curl runs curl from client i's address as account, with args (options
// and URLs), and records its requests.
func (e *Env) Curl(ctx context.Context, i int, account string, env []string, args ...string) error {
	legs, err := curlRun{User: account, Args: args, LocalIP: e.net.Client(i), Env: env}.run(ctx)
	e.record(legs)
	return err
}

func (e *Env) record(legs []ClientLeg) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.legs = append(e.legs, legs...)
}

// runAll runs fns concurrently and returns the first error.
func runAll(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
