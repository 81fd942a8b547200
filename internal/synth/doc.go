// Package synth writes large synthetic captures of NTLM over HTTP, fast and
// deterministically, for benchmarks and end-to-end tests of ntlmscope.
//
// [Generate] runs a mix of scenarios ([Scenario]: healthy keep-alive NTLM,
// Negotiate-wrapped NTLM, handshakes broken by a balancer, wrong passwords,
// abandoned handshakes, proxy authentication, Kerberos, plain HTTP, long
// keep-alive connections, large bodies, and TLS, SMB-like and DNS-like
// noise) for many clients and users behind a virtual IP, interleaved in
// capture time, and streams them as pcapng until the file reaches the
// requested size. Everything follows from [Config.Seed]: the same
// configuration writes the same bytes.
//
// Because every conversation is scripted, the counts ntlmscope must report
// are known by construction: Generate returns them as an [Expected], whose
// summary fields carry the names of the report's summary. Each scenario's
// doc comment says what it contributes to them.
//
// Speed comes from writing packets by hand: Ethernet, IP and TCP headers
// are encoded into one reused buffer (TCP checksums left zero: ntlmscope
// and tshark do not verify them by default), NTLM tokens are built and
// base64-encoded once per client and backend and made unique per use by
// patching a few bytes, and blocks go through one bufio.Writer.
//
// It does not read captures, simulate loss, reordering or retransmissions
// (see internal/capwriter for small hand-bent captures), or produce the
// upstream leg of a balancer: every connection is a client leg.
package synth
