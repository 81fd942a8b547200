package ntlmserver

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// Server is an IIS-like NTLM HTTP server. It is built on net/http: the
// connection's NTLM state rides in the request context (ConnContext), which
// is all IIS semantics need, and net/http's HTTP/1.1 keep-alive is what
// clients and balancers expect of a web server.
type Server struct {
	opts    Options
	log     *logger
	http    *http.Server
	ln      net.Listener
	connSeq atomic.Uint64
}

// New returns a server with opts; it serves nothing until Serve or Start.
func New(opts Options) (*Server, error) {
	if opts.Name == "" {
		return nil, errors.New("ntlmserver: Options.Name is required")
	}
	s := &Server{opts: opts.withDefaults(), log: &logger{w: opts.Log}}
	s.http = &http.Server{
		Handler:           s,
		ConnContext:       s.connContext,
		ReadHeaderTimeout: 30 * time.Second,
		// No IdleTimeout: IIS keeps idle connections for two minutes,
		// longer than any lab scenario, and a balancer's pool of idle
		// connections must not be closed under it.
	}
	return s, nil
}

// Start listens on addr (host:port) and serves in the background until
// Close.
func Start(opts Options, addr string) (*Server, error) { return start(opts, addr, nil) }

// StartTLS is Start over TLS with cfg: an HTTPS server, like an IIS site
// bound to https.
func StartTLS(opts Options, addr string, cfg *tls.Config) (*Server, error) {
	return start(opts, addr, cfg)
}

// start listens on addr and serves, over TLS when cfg is set.
func start(opts Options, addr string, cfg *tls.Config) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	serve := ln
	if cfg != nil {
		serve = tls.NewListener(ln, cfg)
	}
	go func() { _ = s.http.Serve(serve) }()
	return s, nil
}

// Serve accepts connections on ln until Close (call it once, or use Start).
// It returns http.ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.ln = ln
	return s.http.Serve(ln)
}

// Addr returns the listening address of a server made by Start.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Name returns the server's NetBIOS name.
func (s *Server) Name() string { return s.opts.Name }

// Close closes the listener and every connection at once, as a stopped
// IIS does.
func (s *Server) Close() error {
	return s.http.Close()
}

// ServeHTTP runs one request through the connection's NTLM state.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cs := connFrom(r.Context())
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.requests++
	e := &Entry{
		Backend:     s.opts.Name,
		Conn:        cs.id,
		Remote:      cs.remote,
		Local:       cs.local,
		Method:      r.Method,
		Path:        r.URL.RequestURI(),
		Step:        StepNone,
		ConnRequest: cs.requests,
	}
	e.Status, e.Result = s.handle(w, r, cs, e)
	e.Time = time.Now().UTC()
	s.log.write(e)
}

// handle answers the request and fills in e's NTLM fields; it returns the
// status sent and why.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, cs *connState, e *Entry) (int, Result) {
	if s.opts.Anonymous {
		writeOK(w, s.opts.Name, "", e.Path, nil)
		return http.StatusOK, ResultAnonymous
	}
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		if cs.user != "" {
			e.User = cs.user
			writeOK(w, s.opts.Name, cs.user, e.Path, nil)
			return http.StatusOK, ResultSession
		}
		writeOffer(w)
		return http.StatusUnauthorized, ResultOffered
	}
	tok := ntlm.ParseCredentialsHeader(values[0])
	e.Scheme = tok.SchemeName
	e.Step = StepInvalid
	if (tok.Scheme != ntlm.SchemeNTLM && tok.Scheme != ntlm.SchemeNegotiate) || tok.Err != nil {
		writeOffer(w)
		return http.StatusUnauthorized, ResultBadToken
	}
	dec, err := ntlm.DecodeToken(tok.Scheme, tok.Token)
	if err != nil || dec.Mech != ntlm.MechNTLM || dec.NTLM == nil {
		writeOffer(w)
		return http.StatusUnauthorized, ResultBadToken
	}
	spnego := dec.SPNEGO != ntlm.NotSPNEGO
	e.SPNEGO = spnego
	scheme := tok.Scheme.String()

	switch m := dec.NTLM.(type) {
	case *ntlm.Negotiate:
		e.Step = StepType1
		// A new handshake replaces whatever the connection had, as a
		// new security context does on IIS.
		cs.user, cs.pending = "", nil
		ch, pending, err := s.newChallenge(m, time.Now())
		if err != nil {
			http.Error(w, "no randomness", http.StatusInternalServerError)
			return http.StatusInternalServerError, ResultBadToken
		}
		cs.pending = pending
		token := ch.Marshal()
		if spnego {
			token = ntlm.WrapSPNEGOResp(ntlm.AcceptIncomplete, token)
		}
		writeChallenge(w, scheme, token)
		return http.StatusUnauthorized, ResultChallenged

	case *ntlm.Authenticate:
		e.Step = StepType3
		v := s.verify(cs.pending, m)
		cs.pending, cs.user = nil, ""
		e.User, e.ChallengeFrom = v.user, v.challengeFrom
		if v.result != ResultAuthenticated {
			writeOffer(w)
			return http.StatusUnauthorized, v.result
		}
		if !s.opts.PersistSingleRequest {
			cs.user = v.user
		}
		var final []byte
		if spnego {
			final = ntlm.WrapSPNEGOResp(ntlm.AcceptCompleted, nil)
		}
		writeOK(w, s.opts.Name, v.user, e.Path, final)
		return http.StatusOK, ResultAuthenticated
	}
	writeOffer(w)
	return http.StatusUnauthorized, ResultBadToken
}
