package capwriter

import (
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// datagrams serializes p as an IPv4 or IPv6 datagram, split into fragments
// of at most fragSize payload bytes when fragSize is positive.
func datagrams(p Packet, fragSize int) ([][]byte, error) {
	if p.Src.Addr().Is4() != p.Dst.Addr().Is4() {
		return nil, errors.New("capwriter: source and destination differ in IP version")
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(p.Src.Port()), DstPort: layers.TCPPort(p.Dst.Port()),
		Seq: p.Seq, Ack: p.Ack, Window: p.Window,
		FIN: p.Flags.Has(FIN), SYN: p.Flags.Has(SYN), RST: p.Flags.Has(RST),
		PSH: p.Flags.Has(PSH), ACK: p.Flags.Has(ACK),
	}
	var ip gopacket.SerializableLayer
	if p.Src.Addr().Is4() {
		ip4 := &layers.IPv4{
			Version: 4, IHL: 5, TTL: 64, Id: p.ID, Protocol: layers.IPProtocolTCP,
			SrcIP: p.Src.Addr().AsSlice(), DstIP: p.Dst.Addr().AsSlice(),
		}
		_ = tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		ip6 := &layers.IPv6{
			Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: p.Src.Addr().AsSlice(), DstIP: p.Dst.Addr().AsSlice(),
		}
		_ = tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	d, err := serialize(ip, tcp, gopacket.Payload(p.Payload))
	if err != nil {
		return nil, err
	}
	hdr := 20
	if !p.Src.Addr().Is4() {
		hdr = 40
	}
	if fragSize <= 0 || len(d)-hdr <= fragSize {
		return [][]byte{d}, nil
	}
	return fragment(p, d[hdr:], max(fragSize&^7, 8))
}

// fragment splits the transport bytes of p into fragments of size bytes.
func fragment(p Packet, transport []byte, size int) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(transport); off += size {
		end := min(off+size, len(transport))
		more := end < len(transport)
		var ls []gopacket.SerializableLayer
		if p.Src.Addr().Is4() {
			ip := &layers.IPv4{
				Version: 4, IHL: 5, TTL: 64, Id: p.ID, Protocol: layers.IPProtocolTCP,
				FragOffset: uint16(off / 8),
				SrcIP:      p.Src.Addr().AsSlice(), DstIP: p.Dst.Addr().AsSlice(),
			}
			if more {
				ip.Flags = layers.IPv4MoreFragments
			}
			ls = append(ls, ip)
		} else {
			ls = append(ls, &layers.IPv6{
				Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment,
				SrcIP: p.Src.Addr().AsSlice(), DstIP: p.Dst.Addr().AsSlice(),
			}, &layers.IPv6Fragment{
				NextHeader: layers.IPProtocolTCP, FragmentOffset: uint16(off / 8),
				MoreFragments: more, Identification: uint32(p.ID),
			})
		}
		f, err := serialize(append(ls, gopacket.Payload(transport[off:end]))...)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
