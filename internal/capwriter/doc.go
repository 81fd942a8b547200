// Package capwriter writes small packet captures for tests: scripted TCP
// conversations, framed in any of the link types and tunnels the reassembly
// sources read, written as pcap or pcapng.
//
// A test builds a [Conversation], takes its segments with
// [Conversation.Packets], bends them as the case needs (reorder, duplicate,
// drop, overlap; see [Packets]) and writes them with a [Writer] under an
// [Encap]:
//
//	c := capwriter.NewConversation(client, server)
//	c.Handshake()
//	c.Send(capwriter.ToServer, []byte("GET / HTTP/1.1\r\n\r\n"))
//	pkts := c.Packets().Swap(3, 4)
//	w := capwriter.NewWriter(&buf, capwriter.PCAPNG)
//	err := w.WritePackets(capwriter.Encap{Link: capwriter.SLL2}, pkts)
//
// It is test support: errors come back rather than panicking, but inputs are
// trusted and nothing is tuned for speed. It does not read captures.
package capwriter
