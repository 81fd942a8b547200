package reassembly

import (
	"strings"
	"testing"
	"time"
)

const (
	connectReq  = "CONNECT web:443 HTTP/1.1\r\nHost: web:443\r\n\r\n"
	connectOK   = "HTTP/1.1 200 Connection established\r\n\r\n"
	connectDeny = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
	tlsHello    = "\x16\x03\x01\x00\x05hello"
)

// TestReassemblerCONNECTTunnel checks what the glue follows after a CONNECT:
// a 2xx opens a tunnel whose bytes are looked at afresh (plaintext HTTP is
// parsed, TLS without keys ends the connection's analysis), anything else
// keeps the connection HTTP, and a 101 ends it as before.
func TestReassemblerCONNECTTunnel(t *testing.T) {
	tests := []struct {
		name string
		// steps alternate client and server data, client first.
		steps []string
		want  []string
		// tunnel is Conn.Tunnel.
		tunnel Protocol
	}{{
		name:  "plaintext HTTP inside the tunnel",
		steps: []string{connectReq, connectDeny, connectReq, connectOK, getReq, okResp, getReqB, okResp},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"req 0 CONNECT web:443 frames=4-4 gaps=[0 0]",
			"resp 0 407 for=web:443 frames=5-5 gaps=[0 0]",
			"req 0 CONNECT web:443 frames=6-6 gaps=[0 0]",
			"resp 0 200 for=web:443 frames=7-7 gaps=[0 0]",
			"req 0 GET /a frames=8-8 gaps=[0 0]",
			"resp 0 200 for=/a frames=9-9 gaps=[0 0]",
			"req 0 GET /b frames=10-10 gaps=[0 0]",
			"resp 0 200 for=/b frames=11-11 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
		tunnel: ProtoHTTP1,
	}, {
		name:  "TLS inside the tunnel, no keys",
		steps: []string{connectReq, connectOK, tlsHello, tlsHello, getReq},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"req 0 CONNECT web:443 frames=4-4 gaps=[0 0]",
			"resp 0 200 for=web:443 frames=5-5 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
		tunnel: ProtoTLS,
	}, {
		name:  "a refused CONNECT keeps the connection HTTP",
		steps: []string{connectReq, connectDeny, getReq, okResp},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"req 0 CONNECT web:443 frames=4-4 gaps=[0 0]",
			"resp 0 407 for=web:443 frames=5-5 gaps=[0 0]",
			"req 0 GET /a frames=6-6 gaps=[0 0]",
			"resp 0 200 for=/a frames=7-7 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
	}, {
		name: "a 101 still ends the connection's HTTP",
		steps: []string{"GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", getReq, okResp},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"req 0 GET /chat frames=4-4 gaps=[0 0]",
			"resp 0 101 for=/chat frames=5-5 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
	}, {
		name:  "an empty tunnel carried nothing",
		steps: []string{connectReq, connectOK},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"req 0 CONNECT web:443 frames=4-4 gaps=[0 0]",
			"resp 0 200 for=web:443 frames=5-5 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
	}, {
		// The client sent part of its first tunnel request before the
		// answer: it is read on, and responses keep their requests.
		name:  "a plaintext request begun before the 200",
		steps: []string{connectReq + getReq[:20], connectOK, getReq[20:] + getReqB, okResp + okResp},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"req 0 CONNECT web:443 frames=4-4 gaps=[0 0]",
			"resp 0 200 for=web:443 frames=5-5 gaps=[0 0]",
			"req 0 GET /a frames=4-6 gaps=[0 0]",
			"req 0 GET /b frames=6-6 gaps=[0 0]",
			"resp 0 200 for=/a frames=7-7 gaps=[0 0]",
			"resp 0 200 for=/b frames=7-7 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
		tunnel: ProtoHTTP1,
	}, {
		name: "client tunnel bytes before the 200 are not looked at",
		// The request parser stopped at them (tunnelCheck): the tunnel is
		// not followed, in either direction.
		steps: []string{connectReq + tlsHello, connectOK, getReq, okResp},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"req 0 CONNECT web:443 frames=4-4 gaps=[0 0]",
			"resp 0 200 for=web:443 frames=5-5 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScript()
			c := s.conv("10.0.0.1:50000", "10.0.0.2:3128", 1000)
			c.handshake()
			for i, data := range tt.steps {
				c.send(i%2 == 0, data, 1460)
			}
			c.close()
			rec := s.run(t)
			assertEvents(t, rec, tt.want)
			if got := rec.closed[0]; got.Protocol != ProtoHTTP1 || got.Tunnel != tt.tunnel {
				t.Errorf("Protocol %v, Tunnel %v; want %v, %v", got.Protocol, got.Tunnel, ProtoHTTP1, tt.tunnel)
			}
		})
	}
}

// TestHTTPParserReopen checks a reopened parser: it parses HTTP/1 after the
// message that opened the tunnel, in the same Feed or later; it classifies
// TLS at once; message and response indexes go on; and its detection
// window starts at the tunnel, not at the connection's first byte.
func TestHTTPParserReopen(t *testing.T) {
	big := "HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\n" + strings.Repeat("x", 9000)
	tests := []struct {
		name    string
		methods []string
		feeds   []string
		want    []string
		proto   Protocol
		done    bool
	}{{
		name:    "HTTP in the same Feed as the 200",
		methods: []string{"CONNECT", "GET"},
		feeds:   []string{connectOK + okResp},
		want:    []string{"0 HTTP/1.1 200 Connection established f1-1 b0", "1 HTTP/1.1 200 OK f1-1 b5"},
		proto:   ProtoHTTP1,
	}, {
		name:    "TLS in the same Feed as the 200",
		methods: []string{"CONNECT"},
		feeds:   []string{connectOK + tlsHello, okResp},
		want:    []string{"0 HTTP/1.1 200 Connection established f1-1 b0"},
		proto:   ProtoTLS,
		done:    true,
	}, {
		name:    "TLS in the next Feed",
		methods: []string{"CONNECT"},
		feeds:   []string{connectOK, tlsHello},
		want:    []string{"0 HTTP/1.1 200 Connection established f1-1 b0"},
		proto:   ProtoTLS,
		done:    true,
	}, {
		name:    "the detection window counts from the tunnel",
		methods: []string{"GET", "CONNECT", "GET"},
		feeds:   []string{big, connectOK, "\r\n" + okResp},
		want: []string{"0 HTTP/1.1 200 OK f1-1 b9000", "1 HTTP/1.1 200 Connection established f2-2 b0",
			"2 HTTP/1.1 200 OK f3-3 b5"},
		proto: ProtoHTTP1,
	}, {
		name:    "no start line within the window ends the tunnel",
		methods: []string{"CONNECT"},
		feeds:   []string{connectOK, strings.Repeat("\x00binary\n", 1200), okResp},
		want:    []string{"0 HTTP/1.1 200 Connection established f1-1 b0"},
		proto:   ProtoOther,
		done:    true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *HTTPParser
			var msgs []*Message
			p = NewHTTPParser(ServerToClient, HTTPCallbacks{
				Message: func(m *Message) {
					msgs = append(msgs, m)
					if m.Status/100 == 2 && m.Index < len(tt.methods) && tt.methods[m.Index] == "CONNECT" {
						p.Reopen() // as the glue does (connState.openTunnel)
					}
				},
				RequestMethod: func(idx int, _ *Message) (string, bool) {
					if idx < len(tt.methods) {
						return tt.methods[idx], true
					}
					return "", false
				},
			})
			for i, f := range tt.feeds {
				p.Feed([]byte(f), httpSeg(int64(i+1)))
			}
			if got := httpSummaries(msgs); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("messages\n got %q\nwant %q", got, tt.want)
			}
			if p.Protocol() != tt.proto || p.Done() != tt.done {
				t.Errorf("Protocol %v, Done %v; want %v, %v", p.Protocol(), p.Done(), tt.proto, tt.done)
			}
		})
	}
}

// TestReassemblerMidStreamMethods: on a connection captured after a request
// was sent, its response answers no captured request; the responses after
// it are still framed with their own request's method (a HEAD's response
// has no body, a CONNECT's 2xx opens a tunnel).
func TestReassemblerMidStreamMethods(t *testing.T) {
	const orphan = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name   string
		steps  []string // server first, then alternating
		want   []string
		tunnel Protocol
	}{{
		name:  "HEAD",
		steps: []string{orphan, "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", getReqB, okResp},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"resp 0 407 for=<nil> frames=1-1 gaps=[0 0]",
			"req 0 HEAD /a frames=2-2 gaps=[0 0]",
			"resp 0 200 for=/a frames=3-3 gaps=[0 0]",
			"req 0 GET /b frames=4-4 gaps=[0 0]",
			"resp 0 200 for=/b frames=5-5 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
	}, {
		name:  "CONNECT",
		steps: []string{orphan, connectReq, connectOK, tlsHello, tlsHello},
		want: []string{
			"open 0 stream=0 client=10.0.0.1:50000",
			"resp 0 407 for=<nil> frames=1-1 gaps=[0 0]",
			"req 0 CONNECT web:443 frames=2-2 gaps=[0 0]",
			"resp 0 200 for=web:443 frames=3-3 gaps=[0 0]",
			"close 0 fin http/1.1",
		},
		tunnel: ProtoTLS,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScript()
			c := s.conv("10.0.0.1:50000", "10.0.0.2:3128", 1000)
			c.cseq++
			c.sseq++ // no handshake captured
			for i, data := range tt.steps {
				c.send(i%2 == 1, data, 1460)
			}
			c.close()
			rec := s.run(t)
			assertEvents(t, rec, tt.want)
			if got := rec.closed[0]; got.Tunnel != tt.tunnel {
				t.Errorf("Tunnel %v, want %v", got.Tunnel, tt.tunnel)
			}
		})
	}
}

// TestReassemblerGapKeepsFraming: a gap inside a response's body loses no
// response, so the responses after it are framed with their own request's
// method even when the pairing guesses that requests were skipped (here
// HEAD /3's response has a Content-Length and no body, and must not
// swallow the next response).
func TestReassemblerGapKeepsFraming(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, "GET /0 HTTP/1.1\r\n\r\nGET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nHEAD /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\n\r\n", 1460)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", 1460)
	c.sseq += 5 // the rest of the body was not captured
	c.send(false, okResp, 1460)
	c.send(false, okResp, 1460)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 1460)
	c.send(false, okResp, 1460)
	c.close()
	rec := s.run(t)
	var frames []string
	for _, e := range rec.events {
		if strings.HasPrefix(e, "resp ") {
			frames = append(frames, e[strings.Index(e, "for="):])
		}
	}
	// One response per server segment, each answering its own request:
	// P0 (frame 5, cut by the gap), then P1..P4. The gap lost no response,
	// so none is paired by the lost-response guess (which took P0 for the
	// answer to /4 and left the rest unpaired).
	want := []string{"for=/0 frames=5-5 gaps=[0 1]", "for=/1 frames=6-6 gaps=[0 1]", "for=/2 frames=7-7 gaps=[0 1]",
		"for=/3 frames=8-8 gaps=[0 1]", "for=/4 frames=9-9 gaps=[0 1]"}
	if strings.Join(frames, "|") != strings.Join(want, "|") {
		t.Errorf("responses %q\nwant %q\nevents:\n%s", frames, want, strings.Join(rec.events, "\n"))
	}
}

// TestReassemblerLostResponses: a gap between two responses took whole
// responses with it (the client, which got them, sent its next requests).
// The response after the gap answers the latest request sent before it,
// and is framed by that request's method (a HEAD's response has no body,
// though it declares a length); the responses after it are framed by their
// own requests' methods, the lost ones counted out.
func TestReassemblerLostResponses(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, "GET /0 HTTP/1.1\r\n\r\n", 1460)
	c.send(false, okResp, 1460)
	c.send(true, "GET /1 HTTP/1.1\r\n\r\n", 1460)
	c.sseq += uint32(len(okResp)) // /1's response was not captured
	c.send(true, "GET /2 HTTP/1.1\r\n\r\n", 1460)
	c.sseq += uint32(len(okResp)) // nor /2's
	c.send(true, "HEAD /3 HTTP/1.1\r\n\r\n", 1460)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 1460)
	c.send(true, "HEAD /4 HTTP/1.1\r\n\r\n", 1460)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 1460)
	c.send(true, "GET /5 HTTP/1.1\r\n\r\n", 1460)
	c.send(false, okResp, 1460)
	c.close()
	rec := s.run(t)
	var got []string
	for _, e := range rec.events {
		if strings.HasPrefix(e, "resp ") {
			got = append(got, e[strings.Index(e, "for="):strings.Index(e, " frames=")])
		}
	}
	want := []string{"for=/0", "for=/3", "for=/4", "for=/5"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("responses %q, want %q\nevents:\n%s", got, want, strings.Join(rec.events, "\n"))
	}
}

// TestStartsBefore: a message starts before another when the
// acknowledgment numbers say so, and else only when the frames and the
// timestamps agree (two clocks for the two directions, or a pcapng that
// stores its interfaces' packets in blocks, mislead one of them).
func TestStartsBefore(t *testing.T) {
	at := func(frame int64, us int) *Message {
		return &Message{FirstFrame: frame, FirstTime: time.Unix(0, 0).Add(time.Duration(us) * time.Microsecond)}
	}
	acking := func(m *Message, ack uint32) *Message {
		m.firstWire.ack, m.firstWire.hasAck = ack, true
		return m
	}
	seqAt := func(m *Message, seq uint32) *Message {
		m.firstWire.seq, m.firstWire.hasSeq = seq, true
		return m
	}
	both := func(m *Message, ack, seq uint32) *Message { return seqAt(acking(m, ack), seq) }
	for _, tc := range []struct {
		name string
		a, b *Message
		want bool
	}{
		{"both say before", at(1, 0), at(2, 10), true},
		{"stamped before, stored after", at(2, 0), at(1, 10), false},
		{"stored before, stamped after", at(1, 20), at(2, 10), false},
		{"both say after", at(2, 20), at(1, 10), false},
		// TCP's numbers overrule both: a's packet acknowledges b's first
		// byte (b came first), or b's acknowledges a's (a came first).
		{"both say before, a acknowledges b", acking(at(1, 0), 5001), seqAt(at(2, 10), 5000), false},
		{"both say after, b acknowledges a", seqAt(at(2, 20), 7000), acking(at(1, 10), 7001), true},
		{"a acknowledges only up to b", acking(at(1, 0), 5000), seqAt(at(2, 10), 5000), true},
		{"a acknowledges b across the wrap", acking(at(1, 0), 3), seqAt(at(2, 10), 0xfffffff0), false},
		{"a's ack, b's seq unknown", acking(at(1, 0), 5001), at(2, 10), true},
		{"each acknowledges the other", both(at(1, 0), 5001, 7000), both(at(2, 10), 7001, 5000), true},
	} {
		if got := startsBefore(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: startsBefore = %v, want %v", tc.name, got, tc.want)
		}
	}
}
