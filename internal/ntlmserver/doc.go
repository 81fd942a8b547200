// Package ntlmserver is an HTTP server that authenticates clients with NTLM
// the way IIS does, for the lab and for tests: NTLM state lives on the TCP
// connection, not on the request.
//
// On each connection:
//
//	request without credentials      → 401, WWW-Authenticate: Negotiate and NTLM
//	Authorization: NTLM <Type 1>     → 401, WWW-Authenticate: NTLM <Type 2>
//	Authorization: NTLM <Type 3>     → 200 when the NTLMv2 response answers the
//	                                   challenge issued on this connection with a
//	                                   password of the user table, else 401
//	later requests, no header        → 200: the connection stays authenticated
//
// The Type 2 carries the server's own names (MsvAvNbComputerName,
// MsvAvNbDomainName, MsvAvDnsComputerName, MsvAvDnsDomainName) and an
// MsvAvTimestamp, so that a capture says which backend issued a challenge. A
// Type 3 on a connection that issued no challenge, or answering another
// connection's challenge, fails as it does on IIS; every failure ends the
// handshake and the client must start again with a Type 1. Negotiate is
// accepted with raw NTLMSSP inside (the Windows fallback) and with SPNEGO,
// and answered in kind.
//
// Every request is written to the log as one JSON line ([Entry]): which
// backend, which connection, which NTLM step, what was answered and why.
// That log is the ground truth the lab checks ntlmscope's verdicts against.
//
// The server checks NTLMv2 responses only (NTLMv1, LM and anonymous
// authentications are refused), and does not check MICs, channel bindings or
// session security: it proves who knows the password for a challenge, which
// is all a balancer can break.
package ntlmserver
