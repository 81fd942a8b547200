package reassembly

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// httpMinMessage is the size of the smallest message the parser accepts:
// "A * HTTP/1.1\n\n" or "HTTP/1.1 200\n\n".
const httpMinMessage = 14

// httpFuzzSeeds are realistic streams of one direction.
var httpFuzzSeeds = []string{
	// NTLM handshake, client side, keep-alive.
	"GET /ews/exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nConnection: keep-alive\r\n\r\n" +
		"GET /ews/exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nAuthorization: NTLM " + httpNTLMNegotiate + "\r\n\r\n" +
		"POST /ews/exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nAuthorization: NTLM TlRMTVNTUAADAAAAGAAYAEgAAAAYABgAYAAAAAAAAAB4AAAAAAAAAHgAAAAAAAAAeAAAAAAAAAB4AAAABYKIogoAYUoAAAAP\r\nContent-Type: text/xml\r\nContent-Length: 12\r\n\r\n<soap:Body/>",
	// NTLM handshake, server side.
	"HTTP/1.1 401 Unauthorized\r\nServer: Microsoft-IIS/10.0\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n" +
		"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM " + httpNTLMChallenge + "\r\nContent-Length: 0\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nPersistent-Auth: true\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<ok/>",
	// Chunked with extensions and trailers, then a 100-continue.
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;a=b\r\nwiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n" +
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
	// Pipelined requests with a chunked upload and bare LFs.
	"GET /a HTTP/1.1\nHost: x\n\nPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHEAD /c HTTP/1.0\r\n\r\n",
	// Outlook Anywhere.
	"RPC_IN_DATA /rpc/rpcproxy.dll?mail:6001 HTTP/1.1\r\nContent-Length: 1073741824\r\nAuthorization: NTLM " + httpNTLMNegotiate + "\r\n\r\n\x05\x00\x14\x03",
	// Proxy CONNECT with NTLM, then TLS.
	"CONNECT mail:443 HTTP/1.1\r\nProxy-Authorization: NTLM " + httpNTLMNegotiate + "\r\n\r\n\x16\x03\x01\x00\x05hello",
	"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM " + httpNTLMChallenge + "\r\nContent-Length: 4\r\n\r\ndenyHTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03",
	// Body to close, obs-fold, mid-stream start.
	"tail of a body\r\nHTTP/1.0 200 OK\r\nX-Fold: a\r\n b\r\n\r\nto the end",
	"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
}

// FuzzHTTPParser feeds its input to a request and a response parser,
// whole, in random pieces, and in random pieces with gaps, and checks the
// invariants every run must keep; clean runs must agree with each other.
func FuzzHTTPParser(f *testing.F) {
	for i, s := range httpFuzzSeeds {
		f.Add([]byte(s), uint64(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		for _, dir := range []Direction{ClientToServer, ServerToClient} {
			whole := fuzzHTTPRun(t, dir, data, nil, false)
			split := fuzzHTTPRun(t, dir, data, rand.New(rand.NewPCG(seed, uint64(dir))), false)
			if whole.clean() && split.clean() && !reflect.DeepEqual(whole.msgs, split.msgs) {
				t.Fatalf("%v: whole and split differ:\n%q\n%q", dir, httpSummaries(whole.msgs), httpSummaries(split.msgs))
			}
			fuzzHTTPRun(t, dir, data, rand.New(rand.NewPCG(seed, uint64(dir)+2)), true)
		}
	})
}

// fuzzHTTPResult is what one fuzz run produced, frames and times cleared.
type fuzzHTTPResult struct {
	msgs   []*Message
	errors int
	// reopened counts the tunnels the run followed (Reopen).
	reopened int
}

// clean reports whether the run needed no resynchronisation (only then
// is its outcome independent of how the input was split).
func (r *fuzzHTTPResult) clean() bool {
	if r.errors != 0 {
		return false
	}
	for _, m := range r.msgs {
		if m.Resynced {
			return false
		}
	}
	return true
}

// fuzzHTTPRun feeds data to a parser of direction dir: whole when rng is
// nil, else in random pieces, with random gaps (and the bytes they lost
// dropped) when gaps is set. It checks the invariants as it goes.
func fuzzHTTPRun(t *testing.T, dir Direction, data []byte, rng *rand.Rand, gaps bool) *fuzzHTTPResult {
	t.Helper()
	res := &fuzzHTTPResult{}
	var p *HTTPParser
	kinds := map[bool]bool{}
	ending := false
	p = NewHTTPParser(dir, HTTPCallbacks{
		Message: func(m *Message) {
			// As the glue does, follow the tunnel a 2xx to CONNECT opens
			// (the parser stopped at it), not a 101's.
			defer func() {
				if !m.Request && !ending && m.Status != 101 && p.Done() {
					p.Reopen()
					res.reopened++
				}
			}()
			if m.Index != len(res.msgs) {
				t.Fatalf("message %d has Index %d", len(res.msgs), m.Index)
			}
			if m.Frame < m.FirstFrame {
				t.Fatalf("message %d: Frame %d before FirstFrame %d", m.Index, m.Frame, m.FirstFrame)
			}
			if m.HeaderBytes < httpMinMessage || m.BodyBytes < 0 {
				t.Fatalf("message %d: %d header bytes, %d body bytes", m.Index, m.HeaderBytes, m.BodyBytes)
			}
			kinds[m.Request] = true
			c := *m
			c.FirstFrame, c.Frame = 0, 0
			res.msgs = append(res.msgs, &c)
		},
		RequestMethod: func(idx int, _ *Message) (string, bool) {
			if idx%5 == 4 {
				return "", false
			}
			return [...]string{"GET", "HEAD", "POST", "CONNECT"}[idx%4], true
		},
	})
	frame := int64(1)
	fed := 0
	for rest := data; len(rest) > 0 && !p.Done(); frame++ {
		n := len(rest)
		if rng != nil {
			n = min(n, 1+rng.IntN([]int{4, 40, 2000}[rng.IntN(3)]))
		}
		if gaps && rng.IntN(6) == 0 {
			missing := rng.IntN(60) - 1
			drop := missing
			if drop < 0 {
				drop = rng.IntN(60)
			}
			rest = rest[min(drop, len(rest)):]
			p.Gap(Segment{Frame: frame}, missing)
			continue
		}
		p.Feed(rest[:n], Segment{Frame: frame})
		fed += n
		rest = rest[n:]
		if len(p.buf) > maxHeaderBytes+1 {
			t.Fatalf("buffered %d bytes", len(p.buf))
		}
	}
	ending = true
	p.End(Segment{Frame: frame})
	res.errors = p.Errors()
	switch {
	case !p.Done():
		t.Fatal("not Done after End")
	case len(res.msgs) > fed/httpMinMessage+1:
		t.Fatalf("%d messages from %d bytes", len(res.msgs), fed)
	case len(res.msgs) > 0 && res.reopened == 0 && p.Protocol() != ProtoHTTP1:
		t.Fatalf("%d messages, Protocol %v", len(res.msgs), p.Protocol())
	case len(kinds) > 1:
		t.Fatal("both requests and responses from one parser")
	case res.errors < 0 || res.errors > fed+int(frame):
		t.Fatalf("%d errors from %d bytes", res.errors, fed)
	}
	return res
}
