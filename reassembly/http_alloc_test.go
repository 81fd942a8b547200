package reassembly

import (
	"strings"
	"testing"
)

// The parser runs once per packet of every TCP connection: what it
// allocates is paid per message, never per packet.

func TestHTTPParserAllocsPerMessage(t *testing.T) {
	tests := []struct {
		name     string
		dir      Direction
		msg      string
		want     float64 // a standalone parser's
		recycled float64 // a connection's, whose messages are recycled
	}{
		// A new Message with its fields, and its buffer for the header
		// block; a recycled one reuses both.
		{"request", ClientToServer, "GET /ews/exchange.asmx HTTP/1.1\r\nHost: mail\r\nAuthorization: NTLM " + httpNTLMNegotiate + "\r\n\r\n", 2, 0},
		{"response with body", ServerToClient, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<ok/>", 2, 0},
		{"chunked", ServerToClient, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 2, 0},
		// Trailers (rare) take their own string and grow Header (a
		// recycled Message keeps the grown array).
		{"chunked with trailer", ServerToClient, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", 4, 1},
		{"no fields", ServerToClient, "HTTP/1.1 204 No Content\r\n\r\n", 2, 0},
		// Beyond 16 fields, a new Message's fields take their own
		// allocation.
		{"many fields", ClientToServer, "GET / HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", 40) + "\r\n", 3, 0},
		// obs-fold joins make a string.
		{"folded", ClientToServer, "GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n", 3, 1},
	}
	for _, tt := range tests {
		for _, recycle := range []bool{false, true} {
			name, want := tt.name, tt.want
			if recycle {
				name, want = name+"/recycled", tt.recycled
			}
			t.Run(name, func(t *testing.T) {
				n := 0
				var pool *msgPool
				p := NewHTTPParser(tt.dir, HTTPCallbacks{Message: func(m *Message) {
					n++
					pool.put(m) // as the connection does once the Handler has seen it
				}})
				if recycle {
					pool = &msgPool{}
					p.pool = pool
				}
				data := []byte(tt.msg)
				p.Feed(data, httpSeg(1)) // the first message detects the protocol
				allocs := testing.AllocsPerRun(100, func() { p.Feed(data, httpSeg(2)) })
				if allocs > want {
					t.Errorf("%v allocations per message, want at most %v", allocs, want)
				}
				if n != 102 || p.Errors() != 0 {
					t.Errorf("%d messages, %d errors", n, p.Errors())
				}
			})
		}
	}
}

func TestHTTPParserFeedDoesNotAllocate(t *testing.T) {
	seg := []byte(strings.Repeat("\x00a\r\nb\x17", 1460/6))
	tests := []struct {
		name  string
		dir   Direction
		setup []string // fed first
	}{
		{"content-length body", ClientToServer, []string{"POST / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n"}},
		{"chunk data", ServerToClient, []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\n"}},
		{"body to close", ServerToClient, []string{"HTTP/1.0 200 OK\r\n\r\n"}},
		{"TLS", ClientToServer, []string{"\x16\x03\x01\x02\x00\x01"}},
		{"not HTTP", ClientToServer, []string{strings.Repeat("\x00", httpDetectWindow)}},
		{"detecting", ClientToServer, nil},
		{"hunting after a resync", ServerToClient, []string{"HTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, msgs := newHTTPTestParser(tt.dir)
			for i, s := range tt.setup {
				p.Feed([]byte(s), httpSeg(int64(i+1)))
			}
			before := len(*msgs)
			if allocs := testing.AllocsPerRun(100, func() { p.Feed(seg, httpSeg(9)) }); allocs != 0 {
				t.Errorf("%v allocations per segment", allocs)
			}
			if len(*msgs) != before {
				t.Errorf("segments of non-HTTP bytes made %d messages", len(*msgs)-before)
			}
		})
	}
}

// A header block split across segments is buffered up to its end only: the
// body in the segment that completes it is counted, not copied.
func TestHTTPParserSplitBlockBuffersNoBody(t *testing.T) {
	p, msgs := newHTTPTestParser(ClientToServer)
	head := "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n"
	p.Feed([]byte(head[:20]), httpSeg(1))
	p.Feed([]byte(head[20:]+strings.Repeat("x", 60000)), httpSeg(2))
	if got, want := httpSummaries(*msgs), []string{"0 POST /a HTTP/1.1 f1-2 b60000"}; len(got) != 1 || got[0] != want[0] {
		t.Fatalf("got %q, want %q", got, want)
	}
	if cap(p.buf) > 1024 {
		t.Errorf("buffered %d bytes for a %d-byte block", cap(p.buf), len(head))
	}
}

func TestAllocMessage(t *testing.T) {
	for n := range 40 {
		m := allocMessage(n)
		if len(m.Header) != 0 || cap(m.Header) < n || n > 0 && cap(m.Header) != n {
			t.Errorf("allocMessage(%d): len %d cap %d", n, len(m.Header), cap(m.Header))
		}
	}
}
