package pcapfilter

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// Address and port pools shared by the synthetic packets and the random
// expressions, so that expressions match some packets and not others.
var (
	pool4 = []string{"10.0.0.5", "10.0.0.6", "10.1.2.3", "192.168.1.1", "127.0.0.1"}
	pool6 = []string{"::1", "2001:db8::1", "2001:db8:1::5", "fe80::1", "::ffff:10.0.0.5"}
	ports = []uint16{80, 8080, 443, 85, 1024, 0, 65535}
)

// netPacket builds network-layer packets (IPv4, IPv6, ARP...) with their
// EtherType.
type netPacket struct {
	etherType uint16
	data      []byte
	// cut marks a packet cut short. A classic BPF program rejects a
	// packet as soon as it loads past the end, so on such packets the
	// answer depends on the order of the tests, which libpcap's optimizer
	// picks: they are run, not compared.
	cut bool
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// transport returns a transport header of protocol proto with the ports.
func transport(r *rand.Rand, proto uint8) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], pick(r, ports))
	binary.BigEndian.PutUint16(b[2:], pick(r, ports))
	return b
}

func randIPv4(r *rand.Rand) netPacket {
	opts := 0
	if r.IntN(4) == 0 {
		opts = 4 * (1 + r.IntN(3)) // options: the ports move
	}
	proto := pick(r, []uint8{ipProtoTCP, ipProtoUDP, ipProtoSCTP, 1, ipProtoTCP, ipProtoUDP})
	h := make([]byte, 20+opts)
	h[0] = 0x40 | uint8((20+opts)/4)
	h[9] = proto
	switch r.IntN(6) {
	case 0:
		binary.BigEndian.PutUint16(h[6:], uint16(1+r.IntN(0x1fff))) // a later fragment
	case 1:
		binary.BigEndian.PutUint16(h[6:], 0x2000) // first fragment, MF set
	case 2:
		binary.BigEndian.PutUint16(h[6:], 0x4000) // DF
	}
	copy(h[12:], netip.MustParseAddr(pick(r, pool4)).AsSlice())
	copy(h[16:], netip.MustParseAddr(pick(r, pool4)).AsSlice())
	data := append(h, transport(r, proto)...)
	binary.BigEndian.PutUint16(data[2:], uint16(len(data)))
	return netPacket{etherType: etherIPv4, data: data}
}

func randIPv6(r *rand.Rand) netPacket {
	h := make([]byte, 40)
	h[0] = 0x60
	copy(h[8:], netip.MustParseAddr(pick(r, pool6)).AsSlice())
	copy(h[24:], netip.MustParseAddr(pick(r, pool6)).AsSlice())
	proto := pick(r, []uint8{ipProtoTCP, ipProtoUDP, ipProtoSCTP, 58})
	switch r.IntN(5) {
	case 0: // fragment header, then the transport
		h[6] = ipProtoFragment
		h = append(h, proto, 0, 0, 0, 0, 0, 0, 1)
	case 1: // hop-by-hop options, then the transport
		h[6] = 0
		h = append(h, proto, 0, 0, 0, 0, 0, 0, 0)
	default:
		h[6] = proto
	}
	data := append(h, transport(r, proto)...)
	binary.BigEndian.PutUint16(data[4:], uint16(len(data)-40))
	return netPacket{etherType: etherIPv6, data: data}
}

func randARP(r *rand.Rand) netPacket {
	b := make([]byte, 28)
	binary.BigEndian.PutUint16(b[0:], 1)      // Ethernet
	binary.BigEndian.PutUint16(b[2:], 0x0800) // IPv4
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], uint16(1+r.IntN(4)))
	copy(b[14:], netip.MustParseAddr(pick(r, pool4)).AsSlice())
	copy(b[24:], netip.MustParseAddr(pick(r, pool4)).AsSlice())
	return netPacket{etherType: pick(r, []uint16{etherARP, etherRARP}), data: b}
}

func randOther(r *rand.Rand) netPacket {
	b := make([]byte, r.IntN(80))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return netPacket{etherType: pick(r, []uint16{0x88cc, 0x88e5, 0x8100}), data: b}
}

// corpus returns n random network-layer packets, some cut short.
func corpus(seed uint64, n int) []netPacket {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []netPacket
	for range n {
		var p netPacket
		switch k := r.IntN(10); {
		case k < 4:
			p = randIPv4(r)
		case k < 7:
			p = randIPv6(r)
		case k < 9:
			p = randARP(r)
		default:
			p = randOther(r)
		}
		if r.IntN(8) == 0 {
			p.data, p.cut = p.data[:r.IntN(len(p.data)+1)], true
		}
		out = append(out, p)
	}
	return out
}

// frame wraps a network-layer packet in link type lt, with a VLAN tag on
// Ethernet when vlan is set (neither program looks through it).
func frame(lt layers.LinkType, p netPacket, vlan bool) []byte {
	var hdr []byte
	switch lt {
	case layers.LinkTypeEthernet:
		hdr = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		if vlan {
			hdr = append(hdr, 0x81, 0x00, 0x00, 0x05)
		}
		hdr = binary.BigEndian.AppendUint16(hdr, p.etherType)
	case layers.LinkTypeLinuxSLL:
		hdr = []byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}
		hdr = binary.BigEndian.AppendUint16(hdr, p.etherType)
	case layers.LinkTypeLinuxSLL2:
		hdr = binary.BigEndian.AppendUint16(nil, p.etherType)
		hdr = append(hdr, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0)
	}
	return append(hdr, p.data...)
}
