// Package tlslab makes real TLS traffic for tests: a throwaway
// certificate, an HTTPS server answering NTLM-looking exchanges that
// records each connection's bytes on the wire and inside TLS, a client
// that runs the exchanges with Go's crypto/tls (writing an NSS key log),
// and helpers to capture loopback traffic with tcpdump or to write the
// recorded conversations as a pcapng capture with capwriter.
//
// The exchanges look like an NTLM handshake to a web server (401 with
// WWW-Authenticate: NTLM, then Authorization: NTLM with a Type 1 and a
// Type 3), but no NTLM is computed: what is tested is that the bytes inside
// TLS come out of a capture intact.
//
// It is test support: errors come back rather than panicking, inputs are
// trusted, nothing is tuned for speed.
package tlslab
