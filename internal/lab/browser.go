package lab

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// Browser is an HTTP client that authenticates the way browsers do:
// each request goes out without credentials; a 401 offering NTLM starts a
// handshake on the same keep-alive connection; a 401 after the Type 3 starts
// the handshake over, up to MaxHandshakes times (the 401/401 restarts a
// user sees as repeated prompts). github.com/Azure/go-ntlmssp builds the
// NTLM messages; the handshake loop is the Browser's own, because
// go-ntlmssp's RoundTripper runs the handshake on a second connection and
// never retries.
//
// Use one Browser per simulated user; it is safe for one goroutine.
type Browser struct {
	// User is DOMAIN\user, Password its password.
	User, Password string
	// Workstation goes into the Type 3.
	Workstation string
	// Scheme is "NTLM" (default) or "Negotiate" (raw NTLMSSP under
	// Negotiate, as Windows sends it when Kerberos is not possible).
	Scheme string
	// MaxHandshakes bounds the handshakes per request (default 1).
	MaxHandshakes int
	// NewConnPerLeg makes the client open a new connection for every
	// request and close it after the response: a broken client that
	// splits every handshake across connections.
	NewConnPerLeg bool
	// LocalIP is the source address of the client's connections.
	LocalIP string
	// TLS configures https URLs (Env.TLSConfig: key log, throwaway
	// certificate); nil for Go's defaults.
	TLS *tls.Config
	// Turns, when set, makes each request wait for this client's turn;
	// Name is the client's name in it.
	Turns *Turnstile
	Name  string

	mu   sync.Mutex
	tr   *http.Transport
	legs []ClientLeg
}

// Get fetches url as a browser would and returns the final status.
func (b *Browser) Get(ctx context.Context, url string) (int, error) {
	scheme := b.Scheme
	if scheme == "" {
		scheme = "NTLM"
	}
	res, err := b.leg(ctx, url, scheme, "")
	if err != nil || res.status != http.StatusUnauthorized || !res.offered {
		return res.status, err
	}
	for range max(b.MaxHandshakes, 1) {
		t1, err := ntlmssp.NewNegotiateMessage("", "")
		if err != nil {
			return 0, err
		}
		res, err = b.leg(ctx, url, scheme, scheme+" "+base64.StdEncoding.EncodeToString(t1))
		if err != nil || res.status != http.StatusUnauthorized || res.challenge == nil {
			return res.status, err // not challenged: nothing more a browser can do
		}
		t3, err := ntlmssp.NewAuthenticateMessage(res.challenge, b.User, b.Password,
			&ntlmssp.AuthenticateMessageOptions{WorkstationName: b.Workstation})
		if err != nil {
			return 0, fmt.Errorf("lab: %s: Type 3: %w", b.User, err)
		}
		res, err = b.leg(ctx, url, scheme, scheme+" "+base64.StdEncoding.EncodeToString(t3))
		if err != nil || res.status != http.StatusUnauthorized {
			return res.status, err
		}
	}
	return res.status, nil
}

// Legs returns every request the client made, in order.
func (b *Browser) Legs() []ClientLeg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]ClientLeg(nil), b.legs...)
}

// Close closes the client's idle connections.
func (b *Browser) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tr != nil {
		b.tr.CloseIdleConnections()
	}
}

// legResult is what one request brought back.
type legResult struct {
	status int
	// offered: a bare challenge for the client's scheme.
	offered bool
	// challenge: the Type 2 for the client's scheme, nil when none.
	challenge []byte
}

// leg sends one GET with the given Authorization value ("" for none), in
// the client's turn, and reads the whole response.
func (b *Browser) leg(ctx context.Context, url, scheme, authorization string) (legResult, error) {
	b.Turns.Enter(b.Name)
	defer b.Turns.Pass(b.Name)

	tr := b.transport()
	var local string
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		local = info.Conn.LocalAddr().String()
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		return legResult{}, err
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ntlmscope-lab")
	req.Header.Set("Accept", "text/html")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return legResult{}, fmt.Errorf("lab: %s GET %s: %w", b.User, url, err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return legResult{}, err
	}
	if b.NewConnPerLeg {
		tr.CloseIdleConnections() // the client closes its connection
	}
	b.mu.Lock()
	b.legs = append(b.legs, ClientLeg{User: b.User, Path: req.URL.RequestURI(), Step: stepOf(authorization),
		Status: resp.StatusCode, Local: local})
	b.mu.Unlock()

	res := legResult{status: resp.StatusCode}
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		for _, c := range ntlm.ParseChallengeHeader(v) {
			if c.Scheme.String() != scheme {
				continue
			}
			if len(c.Token) == 0 {
				res.offered = true
			} else {
				res.challenge = c.Token
			}
		}
	}
	return res, nil
}

// transport returns the keep-alive transport, or a new one per request in
// NewConnPerLeg mode. One connection per host, as a browser uses for an
// NTLM-authenticated site.
func (b *Browser) transport() *http.Transport {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tr != nil && !b.NewConnPerLeg {
		return b.tr
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if b.LocalIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(b.LocalIP)}
	}
	b.tr = &http.Transport{
		DialContext:        d.DialContext,
		TLSClientConfig:    b.TLS,
		MaxConnsPerHost:    1,
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
		IdleConnTimeout:    time.Minute,
	}
	return b.tr
}
