package analyzer

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// headerID names a header field the analyzer reads.
type headerID uint8

const (
	hdrOther headerID = iota
	hdrAuthorization
	hdrProxyAuthorization
	hdrWWWAuthenticate
	hdrProxyAuthenticate
	hdrConnection
	hdrProxyConnection
	hdrXForwardedFor
	hdrForwarded
	hdrVia
	hdrPersistentAuth
	// Backend-naming headers, in backendHint's order.
	hdrXBEServer
	hdrXBackendServer
	hdrXServer
	hdrXServedBy
	hdrXFEServer
	numHeaders
)

// headerNames spells each header as the analyzer looks it up
// (case-insensitively).
var headerNames = [numHeaders]string{
	hdrAuthorization:      "Authorization",
	hdrProxyAuthorization: "Proxy-Authorization",
	hdrWWWAuthenticate:    "WWW-Authenticate",
	hdrProxyAuthenticate:  "Proxy-Authenticate",
	hdrConnection:         "Connection",
	hdrProxyConnection:    "Proxy-Connection",
	hdrXForwardedFor:      "X-Forwarded-For",
	hdrForwarded:          "Forwarded",
	hdrVia:                "Via",
	hdrPersistentAuth:     "Persistent-Auth",
	hdrXBEServer:          "X-BEServer",
	hdrXBackendServer:     "X-Backend-Server",
	hdrXServer:            "X-Server",
	hdrXServedBy:          "X-Served-By",
	hdrXFEServer:          "X-FEServer",
}

// headersByLen lists the headers of each name length, so that most fields
// of a message are rejected on their length alone.
var headersByLen = func() (t [maxHeaderLen + 1][]headerID) {
	for id := hdrOther + 1; id < numHeaders; id++ {
		n := len(headerNames[id])
		t[n] = append(t[n], id)
	}
	return t
}()

// maxHeaderLen is the longest name in headerNames.
const maxHeaderLen = len("Proxy-Authorization")

// msgHeaders holds the header fields the analyzer reads from one message,
// found in one pass over its fields (a message is never scanned again).
// The values are the message's own strings: they point into the
// reassembler's buffer, which it reuses once the event returns, so they
// must not outlive the event (clone or intern what is kept).
type msgHeaders struct {
	// first is each header's first value; has says whether it appeared.
	first [numHeaders]string
	has   [numHeaders]bool
	// more holds the second and later values of the headers that repeat,
	// in order: the first few inline, the rest in spill. A challenge
	// header repeats on every bare 401 (WWW-Authenticate: Negotiate, then
	// NTLM), so this costs no allocation.
	more  [4]headerValue
	nmore int
	spill []headerValue
}

// headerValue is a value of header id.
type headerValue struct {
	id headerID
	v  string
}

// scanHeaders reads m's fields once.
func scanHeaders(m *reassembly.Message) msgHeaders {
	var h msgHeaders
	for i := range m.Header {
		f := &m.Header[i]
		n := len(f.Name)
		if n > maxHeaderLen {
			continue
		}
		for _, id := range headersByLen[n] {
			// Most names of the same length differ in their first
			// letter: a cheaper test first (EqualFold would say no too).
			if c := f.Name[0]; c < utf8.RuneSelf && c|0x20 != headerNames[id][0]|0x20 {
				continue
			}
			if !strings.EqualFold(f.Name, headerNames[id]) {
				continue
			}
			switch {
			case !h.has[id]:
				h.has[id], h.first[id] = true, f.Value
			case h.nmore < len(h.more):
				h.more[h.nmore] = headerValue{id, f.Value}
				h.nmore++
			default:
				h.spill = append(h.spill, headerValue{id, f.Value})
			}
			break
		}
	}
	return h
}

// values calls f with every value of header id, in order.
func (h *msgHeaders) values(id headerID, f func(string)) {
	if !h.has[id] {
		return
	}
	f(h.first[id])
	for _, hv := range h.more[:h.nmore] {
		if hv.id == id {
			f(hv.v)
		}
	}
	for _, hv := range h.spill {
		if hv.id == id {
			f(hv.v)
		}
	}
}

// wantsClose reports whether a message ends its connection: Connection:
// close, or HTTP/1.0 without Connection: keep-alive. Proxy-Connection,
// which old clients send to proxies and some proxies answer with (a 407
// saying Proxy-Connection: close), counts as Connection does in responses,
// as browsers' keep-alive checks (Chromium's, Firefox's) and curl obey it,
// and in requests addressed to a proxy (absolute-form or CONNECT): an
// origin server ignores it.
func wantsClose(m *reassembly.Message, h *msgHeaders) bool {
	closing, keepAlive := false, false
	tokens := func(v string) {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			switch tok = strings.TrimSpace(tok); {
			case strings.EqualFold(tok, "close"):
				closing = true
			case strings.EqualFold(tok, "keep-alive"):
				keepAlive = true
			}
		}
	}
	h.values(hdrConnection, tokens)
	if !m.Request || m.Method == "CONNECT" || strings.Contains(m.Target, "://") {
		h.values(hdrProxyConnection, tokens)
	}
	return closing || (strings.EqualFold(m.Proto, "HTTP/1.0") && !keepAlive)
}

// realClient returns the original client a proxy names in X-Forwarded-For
// (leftmost entry) or Forwarded (first for=), normalised to an IP address
// when it parses as one; "" when neither header is present. The result may
// point into the message's buffer (valid during the event only).
func realClient(h *msgHeaders) string {
	if v := h.first[hdrXForwardedFor]; v != "" {
		first, _, _ := strings.Cut(v, ",")
		if c := normaliseNode(first); c != "" {
			return c
		}
	}
	found := ""
	h.values(hdrForwarded, func(v string) {
		if found != "" {
			return
		}
		elem, _, _ := strings.Cut(v, ",")
		for _, pair := range strings.Split(elem, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(k, "for") {
				if c := normaliseNode(val); c != "" {
					found = c
					return
				}
			}
		}
	})
	return found
}

// normaliseNode turns "1.2.3.4", "1.2.3.4:5", "[::1]:5" or "\"[::1]\"" into
// the address; anything else (an obfuscated identifier) is kept, cleaned of
// control characters and cut to 64 bytes.
func normaliseNode(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "\"")
	if s == "" {
		return ""
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().String()
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().String()
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// isProxied reports whether a request was relayed by a proxy that says so.
func isProxied(h *msgHeaders) bool {
	return h.first[hdrVia] != "" || h.first[hdrXForwardedFor] != "" || h.first[hdrForwarded] != ""
}

// backendHint returns the response's backend-naming headers as one string
// ("" when none): X-BEServer, X-Backend-Server, X-Server, X-Served-By and
// X-FEServer, as Exchange, some balancers and many admins configure them.
// Server is left out on purpose: IIS answers 401s from HTTP.sys
// ("Microsoft-HTTPAPI/2.0") and 200s from IIS, so it changes within a
// healthy handshake.
func backendHint(h *msgHeaders) string {
	var b strings.Builder
	for id := hdrXBEServer; id <= hdrXFEServer; id++ {
		if v := h.first[id]; v != "" {
			if b.Len() > 0 {
				b.WriteByte(';')
			}
			b.WriteString(strings.ToLower(headerNames[id]))
			b.WriteByte('=')
			b.WriteString(strings.ToLower(strings.TrimSpace(v)))
		}
	}
	return b.String()
}

// persistentAuthOff reports Persistent-Auth: false (the server asks for a
// handshake on every request, IIS authPersistSingleRequest).
func persistentAuthOff(h *msgHeaders) bool {
	return strings.EqualFold(strings.TrimSpace(h.first[hdrPersistentAuth]), "false")
}

// addrString formats an address per the conventions (IPv6 in brackets),
// with one allocation: the text's own (AddrPort.String takes two).
func addrString(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	var buf [64]byte
	return string(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(buf[:0]))
}
