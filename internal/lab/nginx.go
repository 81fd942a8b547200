package lab

import (
	"path/filepath"
	"syscall"
	"testing"
	"text/template"
)

// nginxConfig is the data of nginxTemplate.
type nginxConfig struct {
	Dir      string   // prefix: pid, logs, temporary files
	Listen   string   // ip:port
	Source   string   // proxy_bind address of the upstream connections
	Backends []string // ip:port
}

// nginxTemplate is the reverse proxy setup that breaks NTLM: upstream
// keepalive (a pool of idle backend connections shared by every client
// connection), HTTP/1.1 upstream and "Connection: \"\"" so that backend
// connections stay open. One process (master_process off) so that one pool
// serves all clients and the order of requests decides which pooled
// connection each gets.
var nginxTemplate = template.Must(template.New("nginx.conf").Parse(`daemon off;
master_process off;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;

events {
    worker_connections 128;
}

http {
    access_log {{.Dir}}/access.log;
    client_body_temp_path {{.Dir}}/client_body;
    proxy_temp_path {{.Dir}}/proxy;
    fastcgi_temp_path {{.Dir}}/fastcgi;
    uwsgi_temp_path {{.Dir}}/uwsgi;
    scgi_temp_path {{.Dir}}/scgi;

    upstream web {
{{- range .Backends}}
        server {{.}};
{{- end}}
        keepalive 8;
    }

    server {
        listen {{.Listen}};
        location / {
            proxy_pass http://web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_bind {{.Source}};
        }
    }
}
`))

// startNginx writes the configuration into cfg.Dir and runs nginx in the
// foreground until the test ends or Stop.
func startNginx(t testing.TB, cfg nginxConfig) (*Proc, error) {
	t.Helper()
	path := filepath.Join(cfg.Dir, "nginx.conf")
	if err := writeTemplate(path, nginxTemplate, cfg); err != nil {
		return nil, err
	}
	p, err := startProc(t, cfg.Dir, nil, "nginx", "-c", path, "-p", cfg.Dir+"/", "-e", filepath.Join(cfg.Dir, "error.log"))
	if err != nil {
		return nil, err
	}
	return p, p.waitListening(cfg.Listen)
}

// stopNginx asks nginx for a fast shutdown (SIGTERM).
func stopNginx(p *Proc) error { return p.Stop(syscall.SIGTERM) }
