package reassembly

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestDecodeVerdicts decodes hand-made frames that are not TCP or not
// decodable; each lands in exactly one counter.
func TestDecodeVerdicts(t *testing.T) {
	ip4 := func(proto byte, payload ...byte) []byte {
		h := []byte{0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
		return append(h, payload...)
	}
	eth := func(etherType uint16, payload []byte) []byte {
		h := make([]byte, 14)
		binary.BigEndian.PutUint16(h[12:], etherType)
		return append(h, payload...)
	}
	tcpHdr := func(offset byte) []byte {
		h := make([]byte, 20)
		h[12] = offset << 4
		return h
	}
	gre := func(proto uint16, payload []byte) []byte {
		h := []byte{0, 0, 0, 0}
		binary.BigEndian.PutUint16(h[2:], proto)
		return ip4(47, append(h, payload...)...)
	}
	nested := ip4(6, tcpHdr(5)...)
	for range 5 {
		nested = gre(0x0800, nested)
	}
	ipv6 := func(next byte, payload []byte) []byte {
		h := make([]byte, 40)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
		h[6] = next
		return append(h, payload...)
	}
	tests := []struct {
		name  string
		link  layers.LinkType
		frame []byte
		want  verdict
	}{
		{"tcp", layers.LinkTypeRaw, ip4(6, tcpHdr(5)...), verdictTCP},
		{"4 tunnels", layers.LinkTypeRaw, gre(0x0800, gre(0x0800, gre(0x0800, gre(0x0800, ip4(6, tcpHdr(5)...))))), verdictTCP},
		{"5 tunnels", layers.LinkTypeRaw, nested, verdictMalformed},
		{"arp", layers.LinkTypeEthernet, eth(0x0806, make([]byte, 28)), verdictNonTCP},
		{"802.3 LLC", layers.LinkTypeEthernet, eth(46, make([]byte, 46)), verdictNonTCP},
		{"udp", layers.LinkTypeRaw, ip4(17, 0, 1, 0, 2, 0, 8, 0, 0), verdictNonTCP},
		{"udp 4789 without the VXLAN I flag", layers.LinkTypeRaw, ip4(17, 0x30, 0x39, 0x12, 0xb5, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), verdictNonTCP},
		{"icmp", layers.LinkTypeRaw, ip4(1, 8, 0, 0, 0), verdictNonTCP},
		{"gre ppp", layers.LinkTypeRaw, gre(0x880b, nil), verdictNonTCP},
		{"ipv6 esp", layers.LinkTypeRaw, ipv6(50, make([]byte, 8)), verdictNonTCP},
		{"ipv6 hop-by-hop then tcp", layers.LinkTypeRaw, ipv6(0, append([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpHdr(5)...)), verdictTCP},
		{"ipv6 ext header overrun", layers.LinkTypeRaw, ipv6(60, []byte{6, 9, 0, 0, 0, 0, 0, 0}), verdictMalformed},
		{"802.11", layers.LinkTypeIEEE80211Radio, make([]byte, 40), verdictUnknownLink},
		{"short ethernet", layers.LinkTypeEthernet, make([]byte, 10), verdictMalformed},
		{"ip version 5", layers.LinkTypeIPv4, append([]byte{0x55}, ip4(6, tcpHdr(5)...)[1:]...), verdictMalformed},
		{"ihl 4", layers.LinkTypeRaw, append([]byte{0x44}, ip4(6, tcpHdr(5)...)[1:]...), verdictMalformed},
		{"tcp offset 4", layers.LinkTypeRaw, ip4(6, tcpHdr(4)...), verdictMalformed},
		{"tcp offset past end", layers.LinkTypeRaw, ip4(6, tcpHdr(15)...), verdictMalformed},
		{"gre cut", layers.LinkTypeRaw, ip4(47, 0x80, 0), verdictMalformed},
		{"erspan3 bad version", layers.LinkTypeRaw, gre(0x22eb, make([]byte, 12)), verdictMalformed},
		{"null unknown family", layers.LinkTypeNull, []byte{7, 0, 0, 0, 0x45}, verdictNonTCP},
		{"raw garbage", layers.LinkTypeRaw, []byte{0x12, 0x34}, verdictMalformed},
		{"mpls ip", layers.LinkTypeEthernet, eth(0x8847, append([]byte{0, 0, 0x11, 64}, ip4(6, tcpHdr(5)...)...)), verdictTCP},
	}
	for _, tc := range tests {
		var st SourceStats
		var p Packet
		d := pktDecoder{stats: &st, pkt: &p}
		if got := d.decode(tc.link, tc.frame, time.Time{}); got != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.name, got, tc.want)
		}
	}
}
