package reassembly

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// httpTestEpoch dates the segments of tests: frame f is at httpTestEpoch + f s.
var httpTestEpoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func httpSeg(frame int64) Segment {
	return Segment{Frame: frame, Time: httpTestEpoch.Add(time.Duration(frame) * time.Second)}
}

// newHTTPTestParser returns a parser that records its messages; methods
// answers RequestMethod (out of range: unknown).
func newHTTPTestParser(dir Direction, methods ...string) (*HTTPParser, *[]*Message) {
	var msgs []*Message
	p := NewHTTPParser(dir, HTTPCallbacks{
		Message: func(m *Message) { msgs = append(msgs, m) },
		RequestMethod: func(idx int, _ *Message) (string, bool) {
			if idx < len(methods) {
				return methods[idx], true
			}
			return "", false
		},
	})
	return p, &msgs
}

// httpOp is one call on a parser in a table test.
type httpOp struct {
	data string
	gap  int // Gap(missing) when data is "" and !end
	end  bool
}

func httpFeed(s string) httpOp   { return httpOp{data: s} }
func httpGap(missing int) httpOp { return httpOp{gap: missing} }
func httpEnd() httpOp            { return httpOp{end: true} }

// run applies ops to p; httpOp i carries frame i+1.
func runHTTP(p *HTTPParser, ops []httpOp) {
	for i, o := range ops {
		s := httpSeg(int64(i + 1))
		switch {
		case o.end:
			p.End(s)
		case o.data != "":
			p.Feed([]byte(o.data), s)
		default:
			p.Gap(s, o.gap)
		}
	}
}

// summary is a message in one line, for table tests: index, start line,
// frames, body size, flags.
func httpSummary(m *Message) string {
	var b strings.Builder
	if m.Request {
		fmt.Fprintf(&b, "%d %s %s %s", m.Index, m.Method, m.Target, m.Proto)
	} else {
		fmt.Fprintf(&b, "%d %s %d %s", m.Index, m.Proto, m.Status, m.Reason)
	}
	fmt.Fprintf(&b, " f%d-%d b%d", m.FirstFrame, m.Frame, m.BodyBytes)
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Chunked, "chunked"}, {m.BodyToClose, "close"}, {m.Incomplete, "incomplete"}, {m.Resynced, "resynced"}} {
		if f.on {
			b.WriteString(" " + f.name)
		}
	}
	return b.String()
}

func httpSummaries(msgs []*Message) []string {
	out := []string{}
	for _, m := range msgs {
		out = append(out, httpSummary(m))
	}
	return out
}

const (
	httpNTLMNegotiate = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="
	httpNTLMChallenge = "TlRMTVNTUAACAAAADAAMADgAAAAFgomiESIzRFVmd4gAAAAAAAAAAEYARgBEAAAACgBhSgAAAA9DAE8ATgBUAE8AUwBPAAIADABDAE8ATgBUAE8AUwBPAAEABABEAEMAAAAAAA=="
)

func TestHTTPParser(t *testing.T) {
	tls := "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + strings.Repeat("\xaa", 40)
	smb := "\x00\x00\x00\x85\xffSMBr\x00\x00\x00\x00\x18\x53\xc8" + strings.Repeat("\x00\x01\x02\x03", 4096)
	tests := []struct {
		name    string
		dir     Direction
		methods []string
		ops     []httpOp
		want    []string
		proto   Protocol
		done    bool
		errors  int
	}{{
		name: "simple GET",
		ops:  []httpOp{httpFeed("GET / HTTP/1.1\r\nHost: a\r\n\r\n")},
		want: []string{"0 GET / HTTP/1.1 f1-1 b0"},
	}, {
		name:    "simple 200",
		dir:     ServerToClient,
		methods: []string{"GET"},
		ops:     []httpOp{httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), httpFeed("lo")},
		want:    []string{"0 HTTP/1.1 200 OK f1-2 b5"},
	}, {
		name: "pipelined requests in one feed",
		ops: []httpOp{httpFeed("GET /a HTTP/1.1\r\nHost: a\r\n\r\n" +
			"POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc" +
			"GET /c HTTP/1.0\r\n\r\n")},
		want: []string{"0 GET /a HTTP/1.1 f1-1 b0", "1 POST /b HTTP/1.1 f1-1 b3", "2 GET /c HTTP/1.0 f1-1 b0"},
	}, {
		name: "WebDAV and RPC methods, 1 GiB RPC_IN_DATA",
		ops: []httpOp{httpFeed("PROPFIND /dav/ HTTP/1.1\r\nDepth: 1\r\n\r\n" +
			"RPC_IN_DATA /rpc/rpcproxy.dll?ex:6001 HTTP/1.1\r\nContent-Length: 1073741824\r\n\r\n"), httpFeed("\x05\x00\x14\x03"), httpEnd()},
		want: []string{"0 PROPFIND /dav/ HTTP/1.1 f1-1 b0", "1 RPC_IN_DATA /rpc/rpcproxy.dll?ex:6001 HTTP/1.1 f1-2 b4 incomplete"},
		done: true,
	}, {
		name: "chunked with extensions and trailers",
		dir:  ServerToClient,
		ops: []httpOp{httpFeed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" +
			"5;name=value;q=\"x\"\r\nhello\r\n"), httpFeed("A \r\n0123456789\r\n0;last\r\nX-Trailer: t1\r\n"), httpFeed("\r\n")},
		want: []string{"0 HTTP/1.1 200 OK f1-3 b15 chunked"},
	}, {
		name: "chunked wins over Content-Length",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")},
		want: []string{"0 HTTP/1.1 200 OK f1-1 b1 chunked", "1 HTTP/1.1 204 No Content f1-1 b0"},
	}, {
		name:    "HEAD response has no body",
		dir:     ServerToClient,
		methods: []string{"HEAD", "GET"},
		ops:     []httpOp{httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"), httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")},
		want:    []string{"0 HTTP/1.1 200 OK f1-1 b0", "1 HTTP/1.1 200 OK f2-2 b2"},
	}, {
		name:    "100-continue then 200 for the same request",
		dir:     ServerToClient,
		methods: []string{"POST", "HEAD"},
		ops: []httpOp{httpFeed("HTTP/1.1 100 Continue\r\n\r\n"), httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
			httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")},
		want: []string{"0 HTTP/1.1 100 Continue f1-1 b0", "1 HTTP/1.1 200 OK f2-2 b2", "2 HTTP/1.1 200 OK f3-3 b0"},
	}, {
		name: "204 and 304 have no body",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		want: []string{"0 HTTP/1.1 204 No Content f1-1 b0", "1 HTTP/1.1 304 Not Modified f1-1 b0", "2 HTTP/1.1 200 OK f1-1 b0"},
	}, {
		name: "body delimited by close",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>"), httpFeed("</html>"), httpEnd()},
		want: []string{"0 HTTP/1.0 200 OK f1-2 b13 close"},
		done: true,
	}, {
		name: "empty body delimited by close ends at the header",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("HTTP/1.1 200 OK\r\n\r\n"), httpEnd()},
		want: []string{"0 HTTP/1.1 200 OK f1-1 b0 close"},
		done: true,
	}, {
		name:    "CONNECT 200 ends the response direction",
		dir:     ServerToClient,
		methods: []string{"CONNECT", "CONNECT"},
		ops: []httpOp{httpFeed("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM " + httpNTLMChallenge + "\r\nContent-Length: 0\r\n\r\n"),
			httpFeed("HTTP/1.1 200 Connection established\r\n\r\n" + tls)},
		want: []string{"0 HTTP/1.1 407 Proxy Authentication Required f1-1 b0", "1 HTTP/1.1 200 Connection established f2-2 b0"},
		done: true,
	}, {
		name: "CONNECT then tunnel bytes stop the request direction quietly",
		ops: []httpOp{httpFeed("CONNECT mail:443 HTTP/1.1\r\nHost: mail:443\r\n\r\n"),
			httpFeed("CONNECT mail:443 HTTP/1.1\r\nProxy-Authorization: NTLM " + httpNTLMNegotiate + "\r\n\r\n"), httpFeed(tls)},
		want: []string{"0 CONNECT mail:443 HTTP/1.1 f1-1 b0", "1 CONNECT mail:443 HTTP/1.1 f2-2 b0"},
		done: true,
	}, {
		name: "101 Switching Protocols ends the response direction",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello")},
		want: []string{"0 HTTP/1.1 101 Switching Protocols f1-1 b0"},
		done: true,
	}, {
		name: "Upgrade request then frames stop the request direction",
		ops:  []httpOp{httpFeed("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), httpFeed("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")},
		want: []string{"0 GET /chat HTTP/1.1 f1-1 b0"},
		done: true,
	}, {
		name: "refused Upgrade: the next request is read",
		ops:  []httpOp{httpFeed("GET /chat HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"), httpFeed("GET /next HTTP/1.1\r\n\r\n")},
		want: []string{"0 GET /chat HTTP/1.1 f1-1 b0", "1 GET /next HTTP/1.1 f2-2 b0"},
	}, {
		name: "mid-stream start inside a body",
		dir:  ServerToClient,
		ops: []httpOp{httpFeed("dy of a previous response\r\n</html>\r\n"), httpFeed("more\nHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n"),
			httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		want: []string{"0 HTTP/1.1 401 Unauthorized f2-2 b0 resynced", "1 HTTP/1.1 200 OK f3-3 b0"},
	}, {
		name: "mid-stream start: a body's tail, then a message in the next segment",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("lo"), httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")},
		want: []string{"0 HTTP/1.1 200 OK f2-2 b5 resynced"},
	}, {
		name: "mid-stream start: a binary tail, then a message in the next segment",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("\x00\x01\x02"), httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		want: []string{"0 HTTP/1.1 200 OK f2-2 b0 resynced"},
	}, {
		name:   "garbage at the end of a segment, then a message",
		ops:    []httpOp{httpFeed("GET /a HTTP/1.1\r\n\r\nxx "), httpFeed("GET /b HTTP/1.1\r\n\r\n")},
		want:   []string{"0 GET /a HTTP/1.1 f1-1 b0", "1 GET /b HTTP/1.1 f2-2 b0 resynced"},
		errors: 1,
	}, {
		name: "a request line split inside the method",
		ops:  []httpOp{httpFeed("G"), httpFeed("ET / HTTP/1.1\r\n\r\n")},
		want: []string{"0 GET / HTTP/1.1 f1-2 b0"},
	}, {
		name: "mid-stream start at a line start that is not a start line",
		ops:  []httpOp{httpFeed("Host: x\r\nAccept: */*\r\n\r\nGET /b HTTP/1.1\r\n\r\n")},
		want: []string{"0 GET /b HTTP/1.1 f1-1 b0 resynced"},
	}, {
		name:   "garbage between messages",
		ops:    []httpOp{httpFeed("GET /a HTTP/1.1\r\n\r\n"), httpFeed("this is not http\r\nnor this\r\n"), httpFeed("GET /b HTTP/1.1\r\n\r\n")},
		want:   []string{"0 GET /a HTTP/1.1 f1-1 b0", "1 GET /b HTTP/1.1 f3-3 b0 resynced"},
		errors: 1,
	}, {
		name:   "binary garbage between messages",
		dir:    ServerToClient,
		ops:    []httpOp{httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\x00\x01\x02"), httpFeed("\xff\xfe\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		want:   []string{"0 HTTP/1.1 200 OK f1-1 b0", "1 HTTP/1.1 200 OK f2-2 b0 resynced"},
		errors: 1,
	}, {
		name: "leading empty lines are no garbage",
		ops:  []httpOp{httpFeed("POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\n"), httpFeed("\r\nGET /b HTTP/1.1\r\n\r\n")},
		want: []string{"0 POST /a HTTP/1.1 f1-1 b1", "1 GET /b HTTP/1.1 f2-2 b0"},
	}, {
		name:    "gap of known size inside a Content-Length body",
		dir:     ServerToClient,
		methods: []string{"GET", "GET"},
		ops:     []httpOp{httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012"), httpGap(4), httpFeed("789HTTP/1.1 204 No Content\r\n\r\n")},
		want:    []string{"0 HTTP/1.1 200 OK f1-3 b6 incomplete", "1 HTTP/1.1 204 No Content f3-3 b0"},
	}, {
		name: "gap that swallows the end of a body",
		ops:  []httpOp{httpFeed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n012"), httpGap(7), httpFeed("GET /b HTTP/1.1\r\n\r\n")},
		want: []string{"0 POST / HTTP/1.1 f1-1 b3 incomplete", "1 GET /b HTTP/1.1 f3-3 b0"},
	}, {
		name:   "gap past the end of a body",
		ops:    []httpOp{httpFeed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n012"), httpGap(12), httpFeed("/b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n")},
		want:   []string{"0 POST / HTTP/1.1 f1-1 b3 incomplete", "1 GET /c HTTP/1.1 f3-3 b0 resynced"},
		errors: 1,
	}, {
		name: "gap of unknown size: resync",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012"), httpGap(-1), httpFeed("xyz\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		// The first message's headers are kept (Incomplete): they are evidence.
		want:   []string{"0 HTTP/1.1 200 OK f1-1 b3 incomplete", "1 HTTP/1.1 200 OK f3-3 b0 resynced"},
		errors: 1,
	}, {
		name:   "gap inside a header block",
		ops:    []httpOp{httpFeed("GET /a HTTP/1.1\r\nHo"), httpGap(3), httpFeed("a\r\n\r\nGET /b HTTP/1.1\r\n\r\n")},
		want:   []string{"0 GET /b HTTP/1.1 f3-3 b0 resynced"},
		errors: 1,
	}, {
		name:   "gap inside a chunked body",
		dir:    ServerToClient,
		ops:    []httpOp{httpFeed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc"), httpGap(5), httpFeed("defgh\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		want:   []string{"0 HTTP/1.1 200 OK f1-1 b3 chunked incomplete", "1 HTTP/1.1 200 OK f3-3 b0 resynced"},
		errors: 1,
	}, {
		name: "gap between messages that lands on a message",
		ops:  []httpOp{httpFeed("GET /a HTTP/1.1\r\n\r\n"), httpGap(100), httpFeed("GET /c HTTP/1.1\r\n\r\n")},
		want: []string{"0 GET /a HTTP/1.1 f1-1 b0", "1 GET /c HTTP/1.1 f3-3 b0"},
	}, {
		name: "gap inside a body delimited by close",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("HTTP/1.1 200 OK\r\n\r\nabc"), httpGap(-1), httpFeed("def"), httpEnd()},
		want: []string{"0 HTTP/1.1 200 OK f1-3 b6 close incomplete"},
		done: true,
	}, {
		name:  "TLS ClientHello",
		ops:   []httpOp{httpFeed(tls)},
		proto: ProtoTLS,
		done:  true,
	}, {
		name:  "TLS record header split",
		dir:   ServerToClient,
		ops:   []httpOp{httpFeed("\x16"), httpFeed("\x03"), httpFeed("\x03\x00\x5a\x02")},
		proto: ProtoTLS,
		done:  true,
	}, {
		name:  "HTTP/2 preface",
		ops:   []httpOp{httpFeed("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00")},
		proto: ProtoHTTP2,
		done:  true,
	}, {
		name:  "HTTP/2 preface split",
		ops:   []httpOp{httpFeed("PRI * HTTP/"), httpFeed("2.0\r\n\r\nSM"), httpFeed("\r\n\r\n")},
		proto: ProtoHTTP2,
		done:  true,
	}, {
		name:  "SMB is other within the window",
		ops:   []httpOp{httpFeed(smb)},
		proto: ProtoOther,
		done:  true,
	}, {
		name:  "short non-HTTP stream is other at its end",
		ops:   []httpOp{httpFeed("\x00\x00\x00\x2f\xfe"), httpEnd()},
		proto: ProtoOther,
		done:  true,
	}, {
		name: "bare LF line endings",
		dir:  ServerToClient,
		ops:  []httpOp{httpFeed("HTTP/1.1 401 Unauthorized\nWWW-Authenticate: NTLM\nContent-Length: 2\n\nnoHTTP/1.1 200\n\n"), httpEnd()},
		want: []string{"0 HTTP/1.1 401 Unauthorized f1-1 b2", "1 HTTP/1.1 200  f1-1 b0 close"},
		done: true,
	}, {
		name: "duplicate equal Content-Length",
		ops:  []httpOp{httpFeed("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n")},
		want: []string{"0 POST / HTTP/1.1 f1-1 b3", "1 GET / HTTP/1.1 f1-1 b0"},
	}, {
		name:   "conflicting Content-Length",
		ops:    []httpOp{httpFeed("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd\r\nGET / HTTP/1.1\r\n\r\n")},
		want:   []string{"0 POST / HTTP/1.1 f1-1 b0 incomplete", "1 GET / HTTP/1.1 f1-1 b0 resynced"},
		errors: 1,
	}, {
		name:   "invalid Content-Length",
		dir:    ServerToClient,
		ops:    []httpOp{httpFeed("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		want:   []string{"0 HTTP/1.1 200 OK f1-1 b0 incomplete", "1 HTTP/1.1 200 OK f1-1 b0"},
		errors: 1,
	}, {
		name:   "bad chunk size",
		dir:    ServerToClient,
		ops:    []httpOp{httpFeed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		want:   []string{"0 HTTP/1.1 200 OK f1-1 b0 chunked incomplete", "1 HTTP/1.1 200 OK f1-1 b0"},
		errors: 1,
	}, {
		name:   "request with a non-chunked transfer coding",
		ops:    []httpOp{httpFeed("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET / HTTP/1.1\r\n\r\n")},
		want:   []string{"0 POST / HTTP/1.1 f1-1 b0 incomplete", "1 GET / HTTP/1.1 f1-1 b0"},
		errors: 1,
	}, {
		name:   "end mid-headers drops the message",
		ops:    []httpOp{httpFeed("GET / HTTP/1.1\r\nHost: a\r\n"), httpEnd()},
		errors: 1,
		proto:  ProtoHTTP1,
		done:   true,
	}, {
		name: "end mid-body",
		ops:  []httpOp{httpFeed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"), httpEnd()},
		want: []string{"0 POST / HTTP/1.1 f1-1 b3 incomplete"},
		done: true,
	}, {
		name: "responses in the client direction",
		ops:  []httpOp{httpFeed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")},
		want: []string{"0 HTTP/1.1 200 OK f1-1 b1"},
	}, {
		name:   "malformed field line is skipped",
		ops:    []httpOp{httpFeed("GET / HTTP/1.1\r\nno colon here\r\nHost: a\r\n\r\n")},
		want:   []string{"0 GET / HTTP/1.1 f1-1 b0"},
		errors: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, msgs := newHTTPTestParser(tt.dir, tt.methods...)
			runHTTP(p, tt.ops)
			if got := httpSummaries(*msgs); !reflect.DeepEqual(got, append([]string{}, tt.want...)) {
				t.Errorf("messages:\n got %q\nwant %q", got, tt.want)
			}
			proto := tt.proto
			if proto == ProtoUnknown && len(tt.want) > 0 {
				proto = ProtoHTTP1
			}
			if got := p.Protocol(); got != proto {
				t.Errorf("Protocol() = %v, want %v", got, proto)
			}
			if got := p.Done(); got != tt.done {
				t.Errorf("Done() = %v, want %v", got, tt.done)
			}
			if got := p.Errors(); got != tt.errors {
				t.Errorf("Errors() = %d, want %d", got, tt.errors)
			}
		})
	}
}

func TestHTTPParserFields(t *testing.T) {
	p, msgs := newHTTPTestParser(ServerToClient, "GET")
	head := "HTTP/1.1 401 Unauthorized\r\n" +
		"WWW-Authenticate: NTLM\r\n" +
		"WWW-Authenticate:  Negotiate \t\r\n" +
		"X-Folded: first\r\n" +
		" \t second\r\n" +
		"\tthird\r\n" +
		"Empty:\r\n" +
		"Transfer-Encoding: chunked\r\n" +
		"\r\n"
	p.Feed([]byte(head+"2\r\nok\r\n0\r\nX-Trailer: yes\r\nServer-Timing: t;dur=1\r\n\r\n"), httpSeg(7))
	if len(*msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(*msgs))
	}
	m := (*msgs)[0]
	want := &Message{
		Proto: "HTTP/1.1", Status: 401, Reason: "Unauthorized",
		Header: []HeaderField{
			{"WWW-Authenticate", "NTLM"},
			{"WWW-Authenticate", "Negotiate"},
			{"X-Folded", "first second third"},
			{"Empty", ""},
			{"Transfer-Encoding", "chunked"},
			{"X-Trailer", "yes"},
			{"Server-Timing", "t;dur=1"},
		},
		FirstFrame: 7, FirstTime: httpSeg(7).Time, Frame: 7, Time: httpSeg(7).Time,
		HeaderBytes: len(head), BodyBytes: 2, Chunked: true,
	}
	if !reflect.DeepEqual(m.Clone(), want) { // a clone: without the buffer its strings point into
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
	if got := m.Values("www-authenticate"); !reflect.DeepEqual(got, []string{"NTLM", "Negotiate"}) {
		t.Errorf("Values = %q", got)
	}
}

// httpSplitStreams are whole conversations, one per direction, with every
// kind of framing, for the split tests.
var httpSplitStreams = []struct {
	name    string
	dir     Direction
	methods []string
	data    string
}{{
	name: "requests",
	dir:  ClientToServer,
	data: "GET /ews/exchange.asmx HTTP/1.1\r\nHost: mail\r\nAuthorization: NTLM " + httpNTLMNegotiate + "\r\n\r\n" +
		"POST /ews/exchange.asmx HTTP/1.1\r\nHost: mail\r\nContent-Length: 11\r\n\r\nhello world" +
		"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n" +
		"\r\nPOST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" +
		"GET /bare HTTP/1.1\nHost: b\nX-Fold: a\n b\n\n",
}, {
	name:    "responses",
	dir:     ServerToClient,
	methods: []string{"GET", "POST", "HEAD", "POST", "GET"},
	data: "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM " + httpNTLMChallenge + "\r\nContent-Length: 0\r\n\r\n" +
		"HTTP/1.1 100 Continue\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" +
		"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto close",
}}

// TestHTTPParserSplitEverywhere feeds each conversation byte by byte (frame
// = offset+1, so each message's frames give the offsets of its first and
// last bytes), then split in two at every offset and in three at every
// pair of offsets, and checks that every split gives the same messages,
// frames included.
func TestHTTPParserSplitEverywhere(t *testing.T) {
	for _, st := range httpSplitStreams {
		t.Run(st.name, func(t *testing.T) {
			data := []byte(st.data)
			p, ref := newHTTPTestParser(st.dir, st.methods...)
			for i := range data {
				p.Feed(data[i:i+1], httpSeg(int64(i+1)))
			}
			p.End(httpSeg(int64(len(data) + 1)))
			if len(*ref) != 5 && len(*ref) != 6 || p.Errors() != 0 {
				t.Fatalf("byte by byte: %d messages, %d errors:\n%q", len(*ref), p.Errors(), httpSummaries(*ref))
			}
			// Each message's last byte is right before the next one's first.
			for i, m := range *ref {
				next := int64(len(data) + 1)
				if i+1 < len(*ref) {
					next = (*ref)[i+1].FirstFrame
				}
				if m.Frame >= next || m.FirstFrame > m.Frame {
					t.Errorf("message %d: frames %d-%d, next starts at %d", i, m.FirstFrame, m.Frame, next)
				}
			}
			check := func(cuts ...int) {
				t.Helper()
				p, got := newHTTPTestParser(st.dir, st.methods...)
				prev := 0
				for i, c := range append(cuts, len(data)) {
					p.Feed(data[prev:c], httpSeg(int64(i+1)))
					prev = c
				}
				p.End(httpSeg(int64(len(cuts) + 2)))
				want := httpRemapFrames(*ref, cuts)
				if !reflect.DeepEqual(*got, want) {
					t.Fatalf("split at %v:\n got %q\nwant %q", cuts, httpSummaries(*got), httpSummaries(want))
				}
			}
			for i := 0; i <= len(data); i++ {
				check(i)
			}
			if testing.Short() {
				return
			}
			for i := 0; i <= len(data); i++ {
				for j := i; j <= len(data); j++ {
					check(i, j)
				}
			}
		})
	}
}

// httpRemapFrames copies the byte-by-byte messages ref with their frames
// renumbered for a feed cut at cuts (piece k is frame k+1).
func httpRemapFrames(ref []*Message, cuts []int) []*Message {
	frame := func(f int64) int64 {
		off := int(f - 1)
		for i, c := range cuts {
			if off < c {
				return int64(i + 1)
			}
		}
		return int64(len(cuts) + 1)
	}
	out := make([]*Message, len(ref))
	for i, m := range ref {
		c := *m
		c.FirstFrame, c.Frame = frame(m.FirstFrame), frame(m.Frame)
		c.FirstTime, c.Time = httpSeg(c.FirstFrame).Time, httpSeg(c.Frame).Time
		out[i] = &c
	}
	return out
}

func TestHTTPParserOversizedHeader(t *testing.T) {
	p, msgs := newHTTPTestParser(ClientToServer)
	p.Feed([]byte("GET / HTTP/1.1\r\n"), httpSeg(1))
	line := []byte("X-Padding: " + strings.Repeat("a", 1000) + "\r\n")
	for i := 0; i < 10000; i++ { // 10 MB of header
		p.Feed(line, httpSeg(2))
		if len(p.buf) > maxHeaderBytes+1 {
			t.Fatalf("buffered %d bytes", len(p.buf))
		}
	}
	p.Feed([]byte("\r\nGET /next HTTP/1.1\r\n\r\n"), httpSeg(3))
	if got, want := httpSummaries(*msgs), []string{"0 GET /next HTTP/1.1 f3-3 b0 resynced"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if p.Errors() != 1 {
		t.Errorf("Errors() = %d, want 1", p.Errors())
	}
	if cap(p.buf) > maxKeptBuffer {
		t.Errorf("kept a buffer of %d bytes", cap(p.buf))
	}
}

func TestHTTPParserTooManyFields(t *testing.T) {
	p, msgs := newHTTPTestParser(ServerToClient)
	hdr := "HTTP/1.1 200 OK\r\n" + strings.Repeat("A: b\r\n", maxHeaderFields+1) + "\r\n"
	p.Feed([]byte(hdr+"HTTP/1.1 204 No Content\r\n\r\n"), httpSeg(1))
	if got, want := httpSummaries(*msgs), []string{"0 HTTP/1.1 204 No Content f1-1 b0 resynced"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if p.Errors() != 1 {
		t.Errorf("Errors() = %d, want 1", p.Errors())
	}
}

func TestHTTPParserDetectionWindow(t *testing.T) {
	// No line feed at all: the parser must give up after the window
	// without buffering it.
	p, _ := newHTTPTestParser(ClientToServer)
	junk := []byte(strings.Repeat("A", 1000))
	for i := 0; i < 20 && !p.Done(); i++ {
		p.Feed(junk, httpSeg(int64(i+1)))
	}
	if p.Protocol() != ProtoOther || p.offset > httpDetectWindow+int64(len(junk)) {
		t.Errorf("Protocol() = %v after %d bytes", p.Protocol(), p.offset)
	}
	if len(p.buf) > httpDetectWindow {
		t.Errorf("buffered %d bytes while detecting", len(p.buf))
	}

	// A start line found late in the window still counts.
	p, msgs := newHTTPTestParser(ServerToClient)
	p.Feed([]byte(strings.Repeat("x\n", 4000)+"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), httpSeg(1))
	if len(*msgs) != 1 || p.Protocol() != ProtoHTTP1 || p.Errors() != 0 {
		t.Errorf("late start line: %d messages, %v, %d errors", len(*msgs), p.Protocol(), p.Errors())
	}
}

func TestHTTPParserHugeBodyDoesNotAllocate(t *testing.T) {
	p, msgs := newHTTPTestParser(ClientToServer)
	p.Feed([]byte("RPC_IN_DATA /rpc/rpcproxy.dll?mail:6001 HTTP/1.1\r\nContent-Length: 1073741824\r\n\r\n"), httpSeg(1))
	piece := make([]byte, 64<<10)
	n := 0
	allocs := testing.AllocsPerRun(1<<14-1, func() {
		n++
		p.Feed(piece, httpSeg(int64(n)))
	})
	if allocs != 0 {
		t.Errorf("%v allocations per body Feed", allocs)
	}
	p.Feed(piece, httpSeg(1<<14+1)) // AllocsPerRun runs once more to warm up
	if len(*msgs) != 1 || (*msgs)[0].BodyBytes != 1<<30 || (*msgs)[0].Incomplete {
		t.Fatalf("got %q", httpSummaries(*msgs))
	}
}

func TestHTTPParserRequestIndex(t *testing.T) {
	var asked []int
	var msgs []*Message
	p := NewHTTPParser(ServerToClient, HTTPCallbacks{
		Message: func(m *Message) { msgs = append(msgs, m) },
		RequestMethod: func(idx int, _ *Message) (string, bool) {
			asked = append(asked, idx)
			return "GET", true
		},
	})
	p.Feed([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"+
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"), httpSeg(1))
	if !reflect.DeepEqual(asked, []int{0, 1}) || len(msgs) != 4 {
		t.Errorf("asked %v, %d messages", asked, len(msgs))
	}
}

func TestHTTPParserNoCallbacks(t *testing.T) {
	p := NewHTTPParser(ServerToClient, HTTPCallbacks{})
	p.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"), httpSeg(1))
	p.End(httpSeg(2))
	if !p.Done() || p.Protocol() != ProtoHTTP1 {
		t.Errorf("Done %v, Protocol %v", p.Done(), p.Protocol())
	}
}

func TestHTTPParserTunnelFromCallback(t *testing.T) {
	// The glue may call Tunnel from inside the Message callback.
	var p *HTTPParser
	n := 0
	p = NewHTTPParser(ClientToServer, HTTPCallbacks{Message: func(m *Message) {
		n++
		p.Tunnel()
	}})
	p.Feed([]byte("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"), httpSeg(1))
	p.End(httpSeg(2))
	if n != 1 || !p.Done() {
		t.Errorf("%d messages, Done %v", n, p.Done())
	}
}

func TestHTTPParserReset(t *testing.T) {
	p, msgs := newHTTPTestParser(ClientToServer)
	p.Feed([]byte("GET /a HTTP/1.1\r\nHost"), httpSeg(1))
	p.Reset()
	p.Feed([]byte("\x16\x03\x01\x00\x10"), httpSeg(1))
	if p.Protocol() != ProtoTLS || len(*msgs) != 0 {
		t.Fatalf("after Reset: %v, %d messages", p.Protocol(), len(*msgs))
	}
	p.Reset()
	p.Feed([]byte("GET /b HTTP/1.1\r\n\r\n"), httpSeg(1))
	if got := httpSummaries(*msgs); !reflect.DeepEqual(got, []string{"0 GET /b HTTP/1.1 f1-1 b0"}) {
		t.Errorf("got %q", got)
	}
}

func TestCheckStartLine(t *testing.T) {
	tests := []struct {
		line     string
		complete bool
		req, st  lineVerdict
	}{
		{"GET / HTTP/1.1", true, lineOK, lineBad},
		{"GET / HTTP/1.1", false, lineMore, lineBad},
		{"RPC_OUT_DATA /rpc/rpcproxy.dll?h:6004 HTTP/1.1", true, lineOK, lineBad},
		{"M-SEARCH * HTTP/1.1", true, lineOK, lineBad},
		{"GET / HTTP/2.0", true, lineBad, lineBad},
		{"GET  / HTTP/1.1", true, lineBad, lineBad},
		{"GET / HTTP/1.1 ", true, lineBad, lineBad},
		{"GET /a\x01 HTTP/1.1", true, lineBad, lineBad},
		{"GET", false, lineMore, lineBad},
		{"GET", true, lineBad, lineBad},
		{"HTTP", false, lineMore, lineMore},
		{"HTTP/1.1 200 OK", true, lineBad, lineOK},
		{"HTTP/1.1 200", true, lineBad, lineOK},
		{"HTTP/1.1 200 ", true, lineBad, lineOK},
		{"HTTP/1.1 20", false, lineBad, lineMore},
		{"HTTP/1.1 20", true, lineBad, lineBad},
		{"HTTP/1.1 099 X", true, lineBad, lineBad},
		{"HTTP/1.1 2000", true, lineBad, lineBad},
		{"HTTP/1.1 200 Non\x00", true, lineBad, lineBad},
		{"HTTP/1.1 401 Unauthorized\x80", true, lineBad, lineOK},
		{"HTTP/2 200", true, lineBad, lineBad},
		{strings.Repeat("A", maxMethodLen+1) + " / HTTP/1.1", true, lineBad, lineBad},
	}
	for _, tt := range tests {
		if got := checkRequestLine([]byte(tt.line), tt.complete); got != tt.req {
			t.Errorf("checkRequestLine(%q, %v) = %d, want %d", tt.line, tt.complete, got, tt.req)
		}
		if got := checkStatusLine([]byte(tt.line), tt.complete); got != tt.st {
			t.Errorf("checkStatusLine(%q, %v) = %d, want %d", tt.line, tt.complete, got, tt.st)
		}
	}
}

func TestParseChunkSize(t *testing.T) {
	tests := []struct {
		line string
		n    int64
		ok   bool
	}{
		{"0", 0, true},
		{"1a\r", 26, true},
		{"FF ;ext", 255, true},
		{"10;a=b;c", 16, true},
		{"fffffffffffffff", 1<<60 - 1, true},
		{"1000000000000000", 0, false},
		{"", 0, false},
		{"x", 0, false},
		{"1 x", 0, false},
		{"-1", 0, false},
	}
	for _, tt := range tests {
		n, ok := parseChunkSize([]byte(tt.line))
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseChunkSize(%q) = %d, %v; want %d, %v", tt.line, n, ok, tt.n, tt.ok)
		}
	}
}

// BenchmarkHTTPParser feeds a keep-alive conversation of 1000 request and
// response pairs with 10 KB bodies in 1460-byte segments.
func BenchmarkHTTPParser(b *testing.B) {
	body := strings.Repeat("x", 10<<10)
	var req, resp strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&req, "POST /ews/exchange.asmx HTTP/1.1\r\nHost: mail.example.com\r\nUser-Agent: Microsoft Office/16.0\r\n"+
			"Authorization: NTLM %s\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", httpNTLMNegotiate, len(body), body)
		fmt.Fprintf(&resp, "HTTP/1.1 200 OK\r\nCache-Control: private\r\nContent-Type: text/xml; charset=utf-8\r\nServer: Microsoft-IIS/10.0\r\n"+
			"Persistent-Auth: true\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	reqData, respData := []byte(req.String()), []byte(resp.String())
	methods := func(int, *Message) (string, bool) { return "POST", true }
	b.SetBytes(int64(len(reqData) + len(respData)))
	b.ReportAllocs()
	n := 0
	count := func(*Message) { n++ }
	for b.Loop() {
		for _, d := range []struct {
			dir  Direction
			data []byte
		}{{ClientToServer, reqData}, {ServerToClient, respData}} {
			p := NewHTTPParser(d.dir, HTTPCallbacks{Message: count, RequestMethod: methods})
			for off, f := 0, int64(1); off < len(d.data); off, f = off+1460, f+1 {
				p.Feed(d.data[off:min(off+1460, len(d.data))], Segment{Frame: f})
			}
			p.End(Segment{})
		}
	}
	if n != 2000*b.N {
		b.Fatalf("%d messages", n)
	}
}

func TestHTTPParserLongStartLineByteAtATime(t *testing.T) {
	target := "/" + strings.Repeat("a", maxStartLine-100)
	for _, tt := range []struct {
		line string
		want []string
	}{
		{"GET " + target + " HTTP/1.1\r\n\r\n", []string{"1 GET " + target + " HTTP/1.1 f1-1 b0"}},
		{"GET " + target + "\x01 HTTP/1.1\r\n\r\n", []string{}},
		{"GET /" + target + target + " HTTP/1.1\r\n\r\n", []string{}},
	} {
		p, msgs := newHTTPTestParser(ClientToServer)
		p.Feed([]byte("GET / HTTP/1.1\r\n\r\n"), httpSeg(0))
		*msgs = nil
		for i := range len(tt.line) {
			p.Feed([]byte(tt.line[i:i+1]), httpSeg(1))
		}
		if got := httpSummaries(*msgs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%.20q…: got %.80q", tt.line, got)
		}
		if len(p.buf) > maxStartLine+1 {
			t.Errorf("buffered %d bytes", len(p.buf))
		}
	}
}
