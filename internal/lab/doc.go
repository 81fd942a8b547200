// Package lab makes NTLM-over-HTTP traffic with real software on loopback,
// captures it with tcpdump, and knows what really happened: the lab that
// proves ntlmscope's verdicts (issue 5).
//
// A scenario starts the project's IIS-like NTLM servers ([ntlmserver]) as
// backends, a real balancer or proxy from Debian (haproxy, nginx, squid)
// when it needs one, and real clients (curl, or [Browser], a Go client that
// retries a failed handshake as browsers do). Every program listens on its
// own 127.B.S.0/24 block (S is the scenario number, B is drawn per run so
// that two runs on one machine do not collide) and is stopped by its process
// id at the end. tcpdump records the scenario's block; the capture is then
// split into the client leg (client ↔ balancer) and the upstream leg
// (balancer ↔ backends).
//
// The backends' request log is the ground truth ([Truth]): which backend
// each request reached, which challenge each Type 3 answered, what was
// answered. The lab tests check each scenario's declared expectations
// against that truth, then ntlmscope's report against the expectations.
//
// RunWith can also make the kernel drop a share of a scenario's packets
// ([Loss]), so that the captures hold real retransmissions.
//
// The package needs root (tcpdump, ports, iptables) and the Debian programs; see
// [Check]. It is test support: it is not imported by ntlmscope itself.
package lab
