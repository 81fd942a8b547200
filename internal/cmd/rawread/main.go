// Command rawread is the raw read loop that bench/compare.sh measures
// ntlmscope against: it reads every packet of a pcap or pcapng file with
// gopacket's pcapgo readers (ZeroCopyReadPacketData) and decodes Ethernet,
// IPv4, IPv6 and TCP with a gopacket.DecodingLayerParser, and nothing else:
// no reassembly, no HTTP. It prints what it read as JSON:
//
//	rawread FILE
//	{"file":"FILE","packets":3480000,"tcp_packets":3470000,"bytes":2000000000,"seconds":1.02,...}
//
// It is the "read limit" of issue 8: how fast a Go program can merely look
// at every packet's headers.
package main

import "os"

func main() { os.Exit(int(run(os.Args[1:], os.Stdout, os.Stderr))) }
