package capwriter

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Outer tunnel endpoints (RFC 5737 documentation addresses).
var (
	tunnelSrc = net.IP{198, 51, 100, 1}
	tunnelDst = net.IP{198, 51, 100, 2}
)

// GRE protocol numbers gopacket has no name for.
const (
	greTEB     layers.EthernetType = 0x6558 // transparent Ethernet bridging
	greERSPAN3 layers.EthernetType = 0x22EB
)

// tunnel wraps IP datagram d in t and an outer IPv4 header.
func tunnel(t Tunnel, d []byte) ([]byte, error) {
	outer := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolGRE, SrcIP: tunnelSrc, DstIP: tunnelDst}
	gre := &layers.GRE{Protocol: etherType(d)}
	switch t {
	case GRE:
		return serialize(outer, gre, gopacket.Payload(d))
	case GREKeyed:
		gre.ChecksumPresent, gre.KeyPresent, gre.SeqPresent = true, true, true
		gre.Key, gre.Seq = 42, 1
		return serialize(outer, gre, gopacket.Payload(d))
	}
	inner, err := ethernet(d, nil)
	if err != nil {
		return nil, err
	}
	switch t {
	case GRETEB:
		gre.Protocol = greTEB
		return serialize(outer, gre, gopacket.Payload(inner))
	case ERSPAN2:
		gre.Protocol, gre.SeqPresent, gre.Seq = layers.EthernetTypeERSPAN, true, 1
		hdr := &layers.ERSPANII{Version: layers.ERSPANIIVersion, SessionID: 7, Index: 1}
		return serialize(outer, gre, hdr, gopacket.Payload(inner))
	case ERSPAN3, ERSPAN3Platform:
		gre.Protocol, gre.SeqPresent, gre.Seq = greERSPAN3, true, 1
		return serialize(outer, gre, gopacket.Payload(erspan3Header(t == ERSPAN3Platform)), gopacket.Payload(inner))
	case VXLAN:
		outer.Protocol = layers.IPProtocolUDP
		udp := &layers.UDP{SrcPort: 49152, DstPort: 4789}
		_ = udp.SetNetworkLayerForChecksum(outer)
		vx := &layers.VXLAN{ValidIDFlag: true, VNI: 100}
		return serialize(outer, udp, vx, gopacket.Payload(inner))
	}
	return nil, fmt.Errorf("capwriter: unknown tunnel %d", t)
}

// erspan3Header returns an ERSPAN type III header for an Ethernet frame,
// with the platform-specific subheader when platform is set:
//
//	0:  Ver=2 (4) | VLAN (12) | COS (3) | BSO (2) | T (1) | Session ID (10)
//	4:  Timestamp (32)
//	8:  SGT (16) | P (1) | FT (5) | Hw ID (6) | D (1) | Gra (2) | O (1)
//	12: Platf ID (6) | Platform Specific Info (58), when O is set
func erspan3Header(platform bool) []byte {
	h := make([]byte, 12, 20)
	binary.BigEndian.PutUint16(h[0:], 2<<12|10) // version 2, VLAN 10
	binary.BigEndian.PutUint16(h[2:], 7)        // session 7
	binary.BigEndian.PutUint32(h[4:], 123456)   // timestamp
	binary.BigEndian.PutUint16(h[8:], 0x0100)   // SGT
	h[11] = 1 << 1                              // granularity 1, FT 0: Ethernet
	if platform {
		h[11] |= 1
		h = append(h, 3<<2, 0, 0, 0, 0, 0, 0, 0) // platform ID 3
	}
	return h
}
