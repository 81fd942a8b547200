package tlslab

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// NTLM-looking tokens. Type1 is a real Type 1 (NEGOTIATE) message; Type2
// and Type3 carry the NTLMSSP signature and message type and nothing
// computed.
var (
	Type1 = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="
	Type2 = base64.StdEncoding.EncodeToString(append([]byte("NTLMSSP\x00\x02\x00\x00\x00"), bytes.Repeat([]byte{0x11}, 40)...))
	Type3 = base64.StdEncoding.EncodeToString(append([]byte("NTLMSSP\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0x33}, 300)...))
)

// Exchange is one request of a test conversation.
type Exchange struct {
	Method, Target string
	// Auth is the Authorization header, or empty.
	Auth string
	// Body is the request body (sent with Content-Length).
	Body []byte
}

// NTLMExchanges returns a connection-based NTLM handshake as a browser
// runs it against IIS: anonymous request, Type 1, Type 3 (answered with a
// page of size bytes), then a POST of postSize bytes on the authenticated
// connection.
func NTLMExchanges(size, postSize int) []Exchange {
	return []Exchange{
		{Method: "GET", Target: "/sites/hr/default.aspx"},
		{Method: "GET", Target: "/sites/hr/default.aspx", Auth: "NTLM " + Type1},
		{Method: "GET", Target: "/sites/hr/default.aspx?size=" + strconv.Itoa(size), Auth: "NTLM " + Type3},
		{Method: "POST", Target: "/sites/hr/upload.aspx", Body: bytes.Repeat([]byte("x"), postSize)},
	}
}

// NTLMHandler answers like IIS with Windows authentication: 401 with
// WWW-Authenticate: NTLM without credentials, 401 with a challenge for a
// Type 1, 200 for a Type 3 (a body of ?size= bytes, default 100), and 200
// for any request without credentials after that on the connection (the
// test client sends those only after a Type 3).
func NTLMHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		auth := r.Header.Get("Authorization")
		switch {
		case auth == "" && r.Method == "GET":
			w.Header().Add("WWW-Authenticate", "Negotiate")
			w.Header().Add("WWW-Authenticate", "NTLM")
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "401 - Unauthorized: Access is denied due to invalid credentials.")
		case strings.HasPrefix(auth, "NTLM "+Type1[:16]):
			w.Header().Set("WWW-Authenticate", "NTLM "+Type2)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "401.1")
		default:
			size := 100
			if n, err := strconv.Atoi(r.URL.Query().Get("size")); err == nil {
				size = n
			}
			w.Header().Set("Content-Length", strconv.Itoa(size))
			w.Header().Set("Persistent-Auth", "true")
			_, _ = w.Write(bytes.Repeat([]byte("p"), size))
		}
	})
}
