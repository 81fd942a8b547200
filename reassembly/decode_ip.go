package reassembly

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// vxlanPort is the IANA VXLAN port (RFC 7348).
const vxlanPort = 4789

// ipv4 decodes an IPv4 header. gopacket trims the payload to the total
// length (dropping Ethernet padding and trailers) and takes a total length
// of 0 for TCP segmentation offload, as captured on the sending host. A
// fragment goes to the defragmenter; the datagram it completes, if any,
// carries on.
func (d *pktDecoder) ipv4(data []byte) (step, []byte) {
	ip := &d.ip4
	if err := ip.DecodeFromBytes(data, nilDF); err != nil || ip.Version != 4 {
		return d.done(verdictMalformed), nil
	}
	d.pkt.Src = netip.AddrFrom4([4]byte(ip.SrcIP))
	d.pkt.Dst = netip.AddrFrom4([4]byte(ip.DstIP))
	payload, proto := ip.Payload, ip.Protocol
	d.missing = max(int(ip.Length)-int(ip.IHL)*4-len(payload), 0)
	if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
		d.stats.Fragments++
		if d.missing > 0 { // cut by the snaplen: it could only spoil the datagram
			return d.done(verdictFragment), nil
		}
		whole := d.frags.ipv4(ip, d.ts)
		if whole == nil {
			return d.done(verdictFragment), nil
		}
		d.stats.FragmentsReassembled++
		payload, proto = whole.Payload, whole.Protocol
	}
	d.ipProto = proto
	return stepIPProto, payload
}

// ipv6 decodes an IPv6 header and its extension headers:
//
//	0:  version (4) | traffic class (8) | flow label (20)
//	4:  payload length (16) | next header (8) | hop limit (8)
//	8:  source address (128)
//	24: destination address (128)
//
// A payload length of 0 means a jumbogram or, in practice, TCP
// segmentation offload: the payload is then all that was captured.
// Extension headers are skipped by their length; a fragment goes to the
// defragmenter.
func (d *pktDecoder) ipv6(data []byte) (step, []byte) {
	if len(data) < 40 || data[0]>>4 != 6 {
		return d.done(verdictMalformed), nil
	}
	d.pkt.Src = netip.AddrFrom16([16]byte(data[8:24]))
	d.pkt.Dst = netip.AddrFrom16([16]byte(data[24:40]))
	rest := data[40:]
	d.missing = 0
	if n := int(binary.BigEndian.Uint16(data[4:6])); n > len(rest) {
		d.missing = n - len(rest)
	} else if n > 0 {
		rest = rest[:n]
	}
	next := layers.IPProtocol(data[6])
	for range maxSteps {
		var hlen int
		switch next {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination,
			135, 139, 140: // mobility, HIP, shim6: same layout (RFC 6564)
			// next header (8) | length in 8-byte units, not counting the first (8) | ...
			if len(rest) < 2 {
				return d.done(verdictMalformed), nil
			}
			hlen = (int(rest[1]) + 1) * 8
		case layers.IPProtocolAH:
			// next header (8) | length in 4-byte units, minus 2 (8) | ...
			if len(rest) < 2 {
				return d.done(verdictMalformed), nil
			}
			hlen = (int(rest[1]) + 2) * 4
		case layers.IPProtocolIPv6Fragment:
			return d.ipv6Fragment(data, rest)
		default:
			d.ipProto = next
			return stepIPProto, rest
		}
		if len(rest) < hlen {
			return d.done(verdictMalformed), nil
		}
		next, rest = layers.IPProtocol(rest[0]), rest[hlen:]
	}
	return d.done(verdictMalformed), nil
}

// ipv6Fragment handles an IPv6 fragment header (RFC 8200 4.5) at the start
// of rest; hdr is the packet's IPv6 header.
//
//	0: next header (8) | reserved (8) | offset in 8-byte units (13) | res (2) | M (1)
//	4: identification (32)
func (d *pktDecoder) ipv6Fragment(hdr, rest []byte) (step, []byte) {
	if len(rest) < 8 {
		return d.done(verdictMalformed), nil
	}
	next := layers.IPProtocol(rest[0])
	off := binary.BigEndian.Uint16(rest[2:4]) >> 3
	more := rest[3]&1 != 0
	if off == 0 && !more { // an atomic fragment (RFC 6946): the whole datagram
		d.ipProto = next
		return stepIPProto, rest[8:]
	}
	d.stats.Fragments++
	if d.missing > 0 {
		return d.done(verdictFragment), nil
	}
	whole := d.frags.ipv6(hdr, next, off, more, binary.BigEndian.Uint32(rest[4:8]), rest[8:])
	if whole == nil {
		return d.done(verdictFragment), nil
	}
	d.stats.FragmentsReassembled++
	// The reassembled payload starts with the header the first fragment's
	// fragment header named; it may be another extension header.
	d.missing = 0
	return d.ipv6Next(whole.NextHeader, whole.Payload)
}

// ipv6Next goes on after a reassembled IPv6 datagram: the extension
// headers after the fragment header are still to skip.
func (d *pktDecoder) ipv6Next(next layers.IPProtocol, payload []byte) (step, []byte) {
	switch next {
	case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination,
		layers.IPProtocolAH, layers.IPProtocolIPv6Fragment, 135, 139, 140:
		// Rare: rebuild an IPv6 header in front of them so that ipv6
		// walks them. Reassembly allocated already; one more buffer is
		// no loss.
		buf := make([]byte, 40+len(payload))
		buf[0] = 6 << 4
		buf[6] = byte(next)
		src, dst := d.pkt.Src.As16(), d.pkt.Dst.As16()
		copy(buf[8:24], src[:])
		copy(buf[24:40], dst[:])
		copy(buf[40:], payload)
		return stepIPv6, buf
	}
	d.ipProto = next
	return stepIPProto, payload
}

// byIPProto picks the header d.ipProto announces.
func (d *pktDecoder) byIPProto() step {
	switch d.ipProto {
	case layers.IPProtocolTCP:
		return stepTCP
	case layers.IPProtocolUDP:
		return stepUDP
	case layers.IPProtocolGRE:
		return d.tunnel(stepGRE)
	case layers.IPProtocolIPv4: // IP in IP
		return d.tunnel(stepIPv4)
	case layers.IPProtocolIPv6: // 6in4, 6in6
		return d.tunnel(stepIPv6)
	}
	return d.done(verdictNonTCP)
}

// udpLayer decodes a UDP header; only VXLAN is looked into.
func (d *pktDecoder) udpLayer(data []byte) (step, []byte) {
	if err := d.udp.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	if d.udp.DstPort == vxlanPort {
		return d.tunnel(stepVXLAN), d.udp.Payload
	}
	return d.done(verdictNonTCP), nil
}

// tcp decodes the TCP header into the Packet. The payload is what the IP
// length left (Ethernet padding already trimmed); d.missing says how much
// of it the snaplen cut.
func (d *pktDecoder) tcp(data []byte) step {
	if err := d.pkt.TCP.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed)
	}
	d.pkt.Truncated = d.missing > 0
	d.pkt.MissingBytes = d.missing
	return d.done(verdictTCP)
}
