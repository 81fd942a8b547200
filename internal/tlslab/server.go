package tlslab

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Chunk is bytes one side sent, as the server saw them.
type Chunk struct {
	ToServer bool
	Data     []byte
}

// Recording is one connection the server accepted: the bytes on the wire
// (Raw: TLS records) and inside TLS (Plain: HTTP), both in the order the
// server read and wrote them.
type Recording struct {
	Client, Server netip.AddrPort

	mu         sync.Mutex
	raw, plain []Chunk
}

// Raw returns the TCP payloads of the connection so far.
func (r *Recording) Raw() []Chunk { return r.chunks(&r.raw) }

// Plain returns the bytes inside TLS so far.
func (r *Recording) Plain() []Chunk { return r.chunks(&r.plain) }

func (r *Recording) chunks(c *[]Chunk) []Chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Chunk(nil), *c...)
}

func (r *Recording) add(c *[]Chunk, toServer bool, b []byte) {
	if len(b) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	*c = append(*c, Chunk{ToServer: toServer, Data: append([]byte(nil), b...)})
}

// recConn records what passes through a net.Conn into one list of a
// Recording.
type recConn struct {
	net.Conn
	rec  *Recording
	list *[]Chunk
}

func (c *recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.rec.add(c.list, true, b[:n])
	return n, err
}

func (c *recConn) Write(b []byte) (int, error) {
	// Record before writing: once written, the client may answer, and its
	// answer must come after this in the recording.
	c.rec.add(c.list, false, b)
	return c.Conn.Write(b)
}

// Options configure a Server.
type Options struct {
	// Addr is where to listen ("127.0.0.1:0" when empty).
	Addr string
	// TLS is the server's TLS configuration; a certificate is added when
	// it has none, and NextProtos defaults to http/1.1 only.
	TLS *tls.Config
	// Handler serves the requests (NTLMHandler when nil).
	Handler http.Handler
	// HTTP2 lets the server negotiate h2 by ALPN.
	HTTP2 bool
}

// Server is an HTTPS server that records its connections.
type Server struct {
	// Addr is the address it listens on.
	Addr netip.AddrPort

	ln   net.Listener
	http *http.Server
	mu   sync.Mutex
	recs []*Recording
	done chan struct{}
}

// Start starts a server.
func Start(opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cfg := &tls.Config{}
	if opts.TLS != nil {
		cfg = opts.TLS.Clone()
	}
	if len(cfg.Certificates) == 0 {
		c, err := Certificate(RSA)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"http/1.1"}
		if opts.HTTP2 {
			cfg.NextProtos = []string{"h2", "http/1.1"}
		}
	}
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: tcp.Addr().(*net.TCPAddr).AddrPort(), done: make(chan struct{})}
	s.ln = &recListener{Listener: tcp, s: s, cfg: cfg, h2: opts.HTTP2}
	h := opts.Handler
	if h == nil {
		h = NTLMHandler()
	}
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, TLSConfig: cfg}
	if !opts.HTTP2 {
		s.http.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(s.ln)
	}()
	return s, nil
}

// Recordings returns the connections accepted so far, in accept order.
func (s *Server) Recordings() []*Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Recording(nil), s.recs...)
}

// Close stops the server and closes its connections.
func (s *Server) Close() error {
	err := s.http.Close()
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// recListener wraps each accepted connection: a recConn for the wire, TLS,
// and a recConn for the plaintext.
type recListener struct {
	net.Listener
	s   *Server
	cfg *tls.Config
	h2  bool
}

func (l *recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rec := &Recording{
		Client: c.RemoteAddr().(*net.TCPAddr).AddrPort(),
		Server: c.LocalAddr().(*net.TCPAddr).AddrPort(),
	}
	l.s.mu.Lock()
	l.s.recs = append(l.s.recs, rec)
	l.s.mu.Unlock()
	tc := tls.Server(&recConn{Conn: c, rec: rec, list: &rec.raw}, l.cfg)
	if l.h2 {
		// net/http serves HTTP/2 only on a *tls.Conn: no plaintext then.
		return tc, nil
	}
	return &plainConn{Conn: tc, rec: rec}, nil
}

// plainConn records the plaintext of a TLS connection. net/http takes it
// for a plain connection; the TLS handshake runs on its first Read.
type plainConn struct {
	net.Conn
	rec *Recording
}

func (c *plainConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.rec.add(&c.rec.plain, true, b[:n])
	return n, err
}

func (c *plainConn) Write(b []byte) (int, error) {
	c.rec.add(&c.rec.plain, false, b)
	return c.Conn.Write(b)
}
