package tlslab

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/netip"
)

// Result is what the client got for one Exchange.
type Result struct {
	Status   int
	BodySize int
}

// Run runs exs in order on one keep-alive HTTPS connection to addr with
// Go's crypto/tls (cfg may set versions, suites and KeyLogWriter; the
// server's certificate is not verified), then closes the connection.
func Run(addr netip.AddrPort, cfg *tls.Config, exs []Exchange) ([]Result, error) {
	c := &tls.Config{}
	if cfg != nil {
		c = cfg.Clone()
	}
	c.InsecureSkipVerify = true
	if len(c.NextProtos) == 0 {
		c.NextProtos = []string{"http/1.1"} // ALPN, as browsers send it
	}
	if c.ServerName == "" {
		c.ServerName = "intranet.lab.test"
	}
	tr := &http.Transport{TLSClientConfig: c, MaxConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var out []Result
	for _, ex := range exs {
		var body io.Reader
		if ex.Body != nil {
			body = bytes.NewReader(ex.Body)
		}
		req, err := http.NewRequest(ex.Method, "https://"+addr.String()+ex.Target, body)
		if err != nil {
			return out, err
		}
		req.Header.Set("User-Agent", "tlslab/1.0")
		if ex.Auth != "" {
			req.Header.Set("Authorization", ex.Auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			return out, fmt.Errorf("%s %s: %w", ex.Method, ex.Target, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return out, err
		}
		out = append(out, Result{Status: resp.StatusCode, BodySize: int(n)})
	}
	return out, nil
}
