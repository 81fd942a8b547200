package lab

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"text/template"
)

// haproxyMode is how haproxy relays.
type haproxyMode string

// haproxy modes the scenarios use.
const (
	// modeKeepAlive: mode http with the default http-keep-alive.
	// haproxy sees "WWW-Authenticate: NTLM" and keeps the client on its
	// server connection, so NTLM works even with round robin.
	modeKeepAlive haproxyMode = "http-keep-alive"
	// modeServerClose: mode http with option http-server-close: the
	// server connection closes after every response, and round robin
	// sends the next request to the next backend.
	modeServerClose haproxyMode = "http-server-close"
	// modeTCP: mode tcp: one backend connection per client
	// connection, bytes relayed untouched.
	modeTCP haproxyMode = "tcp"
)

// haproxyConfig is the data of haproxyTemplate.
type haproxyConfig struct {
	Mode     haproxyMode
	Bind     string   // frontend ip:port
	Source   string   // address of the upstream connections
	Backends []string // ip:port
	// CertPEM, when set, makes the frontend terminate TLS with the
	// certificate and key in that PEM file (TLS offload: the backends
	// still get plaintext).
	CertPEM string
}

// haproxyTemplate is a minimal haproxy.cfg: round robin over the backends,
// X-Forwarded-For in HTTP modes as any real deployment sets.
var haproxyTemplate = template.Must(template.New("haproxy.cfg").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).Parse(`global
    maxconn 256

defaults
{{- if eq .Mode "tcp"}}
    mode tcp
{{- else}}
    mode http
    option forwardfor
{{- if eq .Mode "http-server-close"}}
    option http-server-close
{{- end}}
{{- end}}
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend lab
    bind {{.Bind}}{{if .CertPEM}} ssl crt {{.CertPEM}} alpn http/1.1{{end}}
    default_backend web

backend web
    balance roundrobin
    source {{.Source}}
{{- range $i, $b := .Backends}}
    server web{{printf "%02d" (inc $i)}} {{$b}}
{{- end}}
`))

// startHAProxy writes the configuration into dir and runs haproxy in the
// foreground (-db) until the test ends or Stop.
func startHAProxy(t testing.TB, dir string, cfg haproxyConfig) (*Proc, error) {
	t.Helper()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := writeTemplate(path, haproxyTemplate, cfg); err != nil {
		return nil, err
	}
	p, err := startProc(t, dir, nil, "haproxy", "-f", path, "-db")
	if err != nil {
		return nil, err
	}
	return p, p.waitListening(cfg.Bind)
}

// stopHAProxy stops haproxy at once: SIGTERM is its hard stop (SIGINT is
// ignored with -db).
func stopHAProxy(p *Proc) error { return p.Stop(syscall.SIGTERM) }

// writeTemplate executes tmpl with data into path.
func writeTemplate(path string, tmpl *template.Template, data any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := tmpl.Execute(f, data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
