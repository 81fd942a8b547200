package analyzer

import (
	"net/netip"
	"strings"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// wantsClose reports whether a message ends its connection: Connection:
// close, or HTTP/1.0 without Connection: keep-alive.
func wantsClose(m *reassembly.Message) bool {
	keepAlive := false
	for _, v := range m.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(tok)) {
			case "close":
				return true
			case "keep-alive":
				keepAlive = true
			}
		}
	}
	return strings.EqualFold(m.Proto, "HTTP/1.0") && !keepAlive
}

// realClient returns the original client a proxy names in X-Forwarded-For
// (leftmost entry) or Forwarded (first for=), normalised to an IP address
// when it parses as one; "" when neither header is present.
func realClient(m *reassembly.Message) string {
	if v := m.Get("X-Forwarded-For"); v != "" {
		first, _, _ := strings.Cut(v, ",")
		if c := normaliseNode(first); c != "" {
			return c
		}
	}
	for _, v := range m.Values("Forwarded") {
		elem, _, _ := strings.Cut(v, ",")
		for _, pair := range strings.Split(elem, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(k, "for") {
				if c := normaliseNode(val); c != "" {
					return c
				}
			}
		}
	}
	return ""
}

// normaliseNode turns "1.2.3.4", "1.2.3.4:5", "[::1]:5" or "\"[::1]\"" into
// the address; anything else (an obfuscated identifier) is kept, cleaned of
// control characters and cut to 64 bytes.
func normaliseNode(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "\"")
	if s == "" {
		return ""
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
func isProxied(m *reassembly.Message) bool {
	return m.Get("Via") != "" || m.Get("X-Forwarded-For") != "" || m.Get("Forwarded") != ""
}

// backendHintHeaders name the backend that answered, as Exchange, some
// balancers and many admins configure them. Server is left out on purpose:
// IIS answers 401s from HTTP.sys ("Microsoft-HTTPAPI/2.0") and 200s from
// IIS, so it changes within a healthy handshake.
var backendHintHeaders = []string{"X-BEServer", "X-Backend-Server", "X-Server", "X-Served-By", "X-FEServer"}

// backendHint returns the response's backend-naming headers as one string
// ("" when none).
func backendHint(m *reassembly.Message) string {
	var b strings.Builder
	for _, h := range backendHintHeaders {
		if v := m.Get(h); v != "" {
			if b.Len() > 0 {
				b.WriteByte(';')
			}
			b.WriteString(strings.ToLower(h))
			b.WriteByte('=')
			b.WriteString(strings.ToLower(strings.TrimSpace(v)))
		}
	}
	return b.String()
}

// persistentAuthOff reports Persistent-Auth: false (the server asks for a
// handshake on every request, IIS authPersistSingleRequest).
func persistentAuthOff(m *reassembly.Message) bool {
	return strings.EqualFold(strings.TrimSpace(m.Get("Persistent-Auth")), "false")
}

// addrString formats an address per the conventions (IPv6 in brackets).
func addrString(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}
