package capwriter_test

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// A request split into 10-byte segments whose second and third segments
// arrive swapped, with the first one retransmitted, over an 802.1Q-tagged
// Ethernet link in pcapng.
func Example() {
	c := capwriter.NewConversation(
		netip.MustParseAddrPort("10.0.0.1:50000"),
		netip.MustParseAddrPort("10.0.0.2:80"))
	c.MSS = 10
	c.Handshake()
	c.Send(capwriter.ToServer, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	c.Close()

	pkts := c.Packets().Swap(4, 5).Duplicate(3)
	for _, p := range pkts[3:8] {
		fmt.Printf("%v seq=%d len=%d\n", p.Flags, p.Seq, len(p.Payload))
	}

	var buf bytes.Buffer
	w := capwriter.NewWriter(&buf, capwriter.PCAPNG)
	if err := w.WritePackets(capwriter.Encap{VLANs: []uint16{100}}, pkts); err != nil {
		fmt.Println(err)
	}
	if err := w.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ACK seq=1001 len=10
	// ACK seq=1001 len=10
	// PSH|ACK seq=1021 len=7
	// ACK seq=1011 len=10
	// FIN|ACK seq=1028 len=0
}
