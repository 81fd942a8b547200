package analyzer

import (
	"slices"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// TestScanHeadersRepeats checks that every value of a header that repeats
// comes back in order, whatever the other headers between them, including
// beyond the values msgHeaders keeps inline.
func TestScanHeadersRepeats(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fields []reassembly.HeaderField
		id     headerID
		want   []string
	}{
		{"none", []reassembly.HeaderField{{Name: "Host", Value: "a"}}, hdrWWWAuthenticate, nil},
		{"once", []reassembly.HeaderField{{Name: "www-authenticate", Value: "NTLM"}}, hdrWWWAuthenticate, []string{"NTLM"}},
		{"offer", []reassembly.HeaderField{
			{Name: "WWW-Authenticate", Value: "Negotiate"}, {Name: "WWW-Authenticate", Value: "NTLM"},
		}, hdrWWWAuthenticate, []string{"Negotiate", "NTLM"}},
		{"interleaved", []reassembly.HeaderField{
			{Name: "Connection", Value: "c1"}, {Name: "WWW-Authenticate", Value: "w1"},
			{Name: "Connection", Value: "c2"}, {Name: "WWW-Authenticate", Value: "w2"},
			{Name: "X-Other", Value: "x"}, {Name: "Connection", Value: "c3"}, {Name: "WWW-AUTHENTICATE", Value: "w3"},
		}, hdrWWWAuthenticate, []string{"w1", "w2", "w3"}},
		{"spilled", func() []reassembly.HeaderField {
			var fs []reassembly.HeaderField
			for i := range 9 {
				fs = append(fs, reassembly.HeaderField{Name: "Via", Value: "v" + itoa(i)},
					reassembly.HeaderField{Name: "Connection", Value: "c" + itoa(i)})
			}
			return fs
		}(), hdrConnection, []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"}},
	} {
		h := scanHeaders(&reassembly.Message{Header: tt.fields})
		var got []string
		h.values(tt.id, func(v string) { got = append(got, v) })
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: values = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestWantsClose: Connection and Proxy-Connection both say close; HTTP/1.0
// closes unless either says keep-alive. A request's Proxy-Connection counts
// only when it is addressed to a proxy.
func TestWantsClose(t *testing.T) {
	for _, tt := range []struct {
		proto  string
		fields []reassembly.HeaderField
		want   bool
	}{
		// Requests: method and target in the proto field's place are
		// spelled out below.
		{"GET /app HTTP/1.0", []reassembly.HeaderField{{Name: "Proxy-Connection", Value: "Keep-Alive"}}, true},
		{"GET http://intranet/app HTTP/1.0", []reassembly.HeaderField{{Name: "Proxy-Connection", Value: "Keep-Alive"}}, false},
		{"CONNECT web:443 HTTP/1.1", []reassembly.HeaderField{{Name: "Proxy-Connection", Value: "close"}}, true},
		{"GET /app HTTP/1.1", []reassembly.HeaderField{{Name: "Proxy-Connection", Value: "close"}}, false},
		{"HTTP/1.1", nil, false},
		{"HTTP/1.1", []reassembly.HeaderField{{Name: "Connection", Value: "keep-alive, Close"}}, true},
		{"HTTP/1.1", []reassembly.HeaderField{{Name: "Proxy-Connection", Value: "close"}}, true},
		{"HTTP/1.1", []reassembly.HeaderField{{Name: "proxy-connection", Value: "keep-alive"}}, false},
		{"HTTP/1.0", nil, true},
		{"HTTP/1.0", []reassembly.HeaderField{{Name: "Connection", Value: "Keep-Alive"}}, false},
		{"HTTP/1.0", []reassembly.HeaderField{{Name: "Proxy-Connection", Value: "Keep-Alive"}}, false},
		{"HTTP/1.0", []reassembly.HeaderField{{Name: "Proxy-Connection", Value: "keep-alive"},
			{Name: "Connection", Value: "close"}}, true},
	} {
		m := &reassembly.Message{Proto: tt.proto, Header: tt.fields}
		if method, rest, ok := strings.Cut(tt.proto, " "); ok {
			m.Request, m.Method = true, method
			m.Target, m.Proto, _ = strings.Cut(rest, " ")
		}
		h := scanHeaders(m)
		if got := wantsClose(m, &h); got != tt.want {
			t.Errorf("%s %v: wantsClose %v, want %v", tt.proto, tt.fields, got, tt.want)
		}
	}
}
