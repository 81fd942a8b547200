package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
	"github.com/ntlmscope/ntlmscope/internal/syncbuf"
)

// clientTimeout bounds a scenario's clients; each scenario takes well
// under a second on an idle machine.
const clientTimeout = 60 * time.Second

// Users is the backends' user table; scenarios log in as these.
var Users = []ntlmserver.User{
	{Name: "alice", Password: "Passw0rd!"},
	{Name: "bob", Password: "S3cret-bob"},
}

// Outcome is what a scenario run leaves: a capture file per leg and the
// ground truth.
type Outcome struct {
	// Files maps ViewClient and, behind a balancer or proxy,
	// ViewUpstream to a pcap file.
	Files map[View]string
	Truth *Truth
	// Duration is the wall time of the run.
	Duration time.Duration
	// Live is ntlmscope's own live capture of the whole scenario (both
	// legs, one file), taken next to tcpdump's.
	Live *LiveCapture
	// KeyLog is the clients' TLS key log of an HTTPS scenario, next to
	// the client leg's capture (keyLogOf); "" for plaintext scenarios.
	KeyLog string
	// Dropped counts the packets RunOptions.Loss dropped.
	Dropped int64
}

// RunOptions change how Run runs a scenario.
type RunOptions struct {
	// Loss, when its probability is above zero, drops packets of the
	// scenario's block at random while the clients run (see Loss).
	Loss Loss
}

// FilesFor returns the capture files one view reads.
func (o *Outcome) FilesFor(v View) []string {
	return viewFiles(func(v View) string { return o.Files[v] })(v)
}

// viewFiles returns the files each view reads, given the capture of each
// leg: both legs for ViewBoth.
func viewFiles(leg func(View) string) func(View) []string {
	return func(v View) []string {
		if v == ViewBoth {
			return []string{leg(ViewClient), leg(ViewUpstream)}
		}
		return []string{leg(v)}
	}
}

// KeyLogsFor returns the key logs the views that read the client leg of an
// HTTPS scenario need: the clients'; none for the upstream leg alone
// (checkReports' viewKeyLogs gives it the clients' when it is TLS too).
func (o *Outcome) KeyLogsFor(v View) []string {
	if o.KeyLog == "" || v == ViewUpstream {
		return nil
	}
	return []string{o.KeyLog}
}

// Run runs scenario s with everything in dir: backends, balancer or proxy,
// capture, clients; then stops them all and splits the capture into legs.
// Programs are stopped by process id when the test ends, whatever happens.
func Run(t testing.TB, s *Scenario, dir string) (*Outcome, error) {
	t.Helper()
	return RunWith(t, s, dir, RunOptions{})
}

// RunWith is Run with options.
func RunWith(t testing.TB, s *Scenario, dir string, opts RunOptions) (*Outcome, error) {
	t.Helper()
	start := time.Now()
	n := NetFor(s.Number)

	backends, log, err := startBackends(t, n, s)
	if err != nil {
		return nil, err
	}
	stopProxy, err := startTopology(t, dir, n, s)
	if err != nil {
		return nil, err
	}
	capture, err := startCapture(t, dir, n)
	if err != nil {
		return nil, err
	}
	// The key log exists, empty, before anything reads it: the live
	// capture watches it grow as the clients add their secrets.
	var keyLog string
	if s.TLS() {
		keyLog = keyLogOf(legPath(dir, s, ViewClient))
		if err := os.WriteFile(keyLog, nil, 0o600); err != nil {
			return nil, err
		}
	}
	live, err := startLiveCapture(t, dir, n, keyLog)
	if err != nil {
		return nil, err
	}

	// The loss is on while the clients run, and off before the programs
	// stop, so that every connection ends inside the capture.
	var lossy *lossyBlock
	if opts.Loss.Probability > 0 {
		if lossy, err = startLoss(t, n, opts.Loss); err != nil {
			return nil, err
		}
	}
	env := &Env{net: n, topology: s.Topology, backendTLS: s.BackendTLS, dir: dir, keyLog: keyLog}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	clientErr := s.Clients(ctx, env)
	cancel()
	var dropped int64
	if lossy != nil {
		if dropped, err = lossy.Stop(); err != nil {
			return nil, err
		}
	}

	// Stop the middle and the backends while capturing, so that every
	// connection's end is in the capture.
	if err := stopProxy(); err != nil {
		return nil, err
	}
	for _, b := range backends {
		_ = b.Close()
	}
	if err := capture.Stop(); err != nil {
		return nil, err
	}
	if err := live.Stop(); err != nil {
		return nil, err
	}
	if clientErr != nil {
		return nil, clientErr
	}

	// The raw capture holds only the scenario's /24, so the port tells the
	// legs apart: clients talk to the frontend port, the balancer or proxy
	// to the backends' port.
	out := &Outcome{Files: map[View]string{}, Live: live, KeyLog: keyLog, Dropped: dropped}
	split := map[View]string{ViewClient: fmt.Sprintf("tcp port %d", FrontendPort), ViewUpstream: fmt.Sprintf("tcp port %d", BackendPort)}
	if s.Topology == Direct {
		split = map[View]string{ViewClient: fmt.Sprintf("tcp port %d", BackendPort)}
	}
	for v, filter := range split {
		path := legPath(dir, s, v)
		if err := capture.Split(path, filter); err != nil {
			return nil, err
		}
		out.Files[v] = path
	}
	entries, err := ntlmserver.ReadLog(bytes.NewReader(log.Bytes()))
	if err != nil {
		return nil, err
	}
	out.Truth = &Truth{Scenario: s.Name, Backends: entries, Clients: env.legs}
	out.Duration = time.Since(start)
	return out, nil
}

// legPath is where Run writes the capture of view v.
func legPath(dir string, s *Scenario, v View) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%s.pcap", s.Name, v))
}

// startBackends starts s.Backends NTLM servers, WEB01 …, sharing one log.
func startBackends(t testing.TB, n Net, s *Scenario) ([]*ntlmserver.Server, *syncbuf.Buffer, error) {
	t.Helper()
	log := &syncbuf.Buffer{}
	var servers []*ntlmserver.Server
	for i := range s.Backends {
		opts := ntlmserver.Options{
			Name:      fmt.Sprintf("WEB%02d", i+1),
			Users:     Users,
			Anonymous: s.Anonymous,
			Log:       log,
		}
		start := ntlmserver.Start
		if s.BackendTLS {
			start = startTLSBackend
		}
		srv, err := start(opts, n.Backend(i))
		if err != nil {
			return nil, nil, fmt.Errorf("lab: backend %d: %w", i+1, err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		servers = append(servers, srv)
	}
	return servers, log, nil
}

// startTopology starts the balancer or proxy of s, if any, and returns
// the function that stops it.
func startTopology(t testing.TB, dir string, n Net, s *Scenario) (func() error, error) {
	t.Helper()
	var backends []string
	for i := range s.Backends {
		backends = append(backends, n.Backend(i))
	}
	// haproxy starts it in mode, terminating TLS with certPEM when set.
	haproxy := func(mode haproxyMode, certPEM string) (func() error, error) {
		p, err := startHAProxy(t, dir, haproxyConfig{Mode: mode, Bind: n.Frontend(), Source: n.Proxy(), Backends: backends,
			CertPEM: certPEM})
		if err != nil {
			return nil, err
		}
		return func() error { return stopHAProxy(p) }, nil
	}
	switch s.Topology {
	case Direct:
		return func() error { return nil }, nil
	case HAProxyKeepAliveRR:
		return haproxy(modeKeepAlive, "")
	case HAProxyServerClose:
		return haproxy(modeServerClose, "")
	case HAProxyTLSServerClose:
		pem, err := writeCertPEM(dir)
		if err != nil {
			return nil, err
		}
		return haproxy(modeServerClose, pem)
	case HAProxyTCPRR:
		return haproxy(modeTCP, "")
	case NginxKeepalive:
		p, err := startNginx(t, nginxConfig{Dir: dir, Listen: n.Frontend(), Source: n.Proxy(), Backends: backends})
		if err != nil {
			return nil, err
		}
		return func() error { return stopNginx(p) }, nil
	case SquidProxyAuth:
		p, err := startSquid(t, n.Frontend(), n.Proxy())
		if err != nil {
			return nil, err
		}
		return func() error { return stopSquid(p) }, nil
	}
	return nil, fmt.Errorf("lab: unknown topology %q", s.Topology)
}
