// Package pcapfilter compiles a subset of tcpdump's filter language
// (pcap-filter(7)) to classic BPF in pure Go, for the kernel of a live
// capture and for files read with golang.org/x/net/bpf's VM.
//
// The subset covers what a capture of HTTP logins needs:
//
//	primitive  = proto                        ip, ip6, tcp, udp
//	           | [pq] [dir] host ADDR          pq: ip or ip6
//	           | [pq] [dir] net ADDR/LEN
//	           | [pq] dir ADDR                 host implied
//	           | [tu] [dir] port N             tu: tcp or udp
//	           | [tu] [dir] portrange N-M
//	dir        = src | dst | src or dst | src and dst
//	expr       = term { (and | or) (term | value) }
//	term       = not term | "(" expr ")" | primitive
//
// "and" is also "&&", "or" "||" and "not" "!". As in tcpdump, and and or
// have the same precedence and group left to right (a or b and c is
// (a or b) and c), and a bare value after and/or repeats the qualifiers of
// the primitive before it: "port 80 or 8080", "host 10.0.0.1 and not
// 10.0.0.2", "port 80 and (8080 or 443)". The programs behave as
// libpcap's do on every packet (hosts and nets also match ARP and RARP
// where the link carries them; ports match TCP, UDP and SCTP, and never an
// IPv4 fragment after the first); the tests check this against
// `tcpdump -d` on synthetic packets for every supported link type.
//
// Anything else is refused with the column and what is supported: host
// names and service names (nothing is resolved), ether, vlan, arp, icmp,
// byte offsets such as tcp[13], greater, less... For those, compile with
// tcpdump and pass the program: ParseProgram reads `tcpdump -ddd` output.
//
// Link types: Ethernet, Linux cooked v1 and v2, raw IP (101, and the BSD
// 12 and 14) and the IPv4 / IPv6 link types. A live capture on Linux
// reads Ethernet-like interfaces with their Ethernet header and every other
// interface (and "any") cooked to raw IP.
//
// The package parses and compiles; it captures nothing and knows nothing of
// the packets' meaning beyond the header offsets it tests.
package pcapfilter
