package reassembly

import (
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// verdict is what decoding one record came to.
type verdict uint8

const (
	verdictTCP         verdict = iota // a TCP segment, in the Packet
	verdictNonTCP                     // decoded, carries no TCP
	verdictMalformed                  // a header could not be decoded
	verdictUnknownLink                // a link type the decoder does not handle
	verdictFragment                   // a fragment, held until its datagram is whole
)

// Limits on nesting, so that a crafted packet cannot loop the decoder.
const (
	maxTunnels = 4  // decapsulations (GRE, ERSPAN, VXLAN, IP in IP) per packet
	maxSteps   = 64 // headers of any kind per packet: VLAN tags, MPLS labels, IPv6 extension headers...
)

// step names the header the decoding loop parses next.
type step uint8

const (
	stepDone      step = iota // stop with d.verdict
	stepEthernet              // Ethernet II / 802.3
	stepEtherType             // dispatch on d.etherType
	stepVLAN                  // 802.1Q or 802.1ad tag
	stepMPLS                  // MPLS label stack
	stepSLL                   // Linux cooked v1
	stepSLL2                  // Linux cooked v2
	stepNull                  // BSD loopback: 4-byte address family
	stepIP                    // IPv4 or IPv6, by the version nibble
	stepIPv4                  // IPv4 header
	stepIPv6                  // IPv6 header and extension headers
	stepIPProto               // dispatch on d.ipProto
	stepUDP                   // UDP (VXLAN rides on it)
	stepGRE                   // GRE, all flag combinations
	stepVXLAN                 // VXLAN header, then Ethernet
	stepERSPAN2               // ERSPAN type II header, then Ethernet
	stepERSPAN3               // ERSPAN type III header, then Ethernet or IP
	stepTCP                   // TCP: the end of the road
)

// LINKTYPE values gopacket has no name for: raw IP as some BSDs wrote it.
const (
	linkTypeRawOpenBSD layers.LinkType = 12
	linkTypeRawBSDOS   layers.LinkType = 14
)

// nilDF ignores the truncation feedback of DecodeFromBytes: truncation is
// measured from the IP lengths instead.
var nilDF = gopacket.NilDecodeFeedback

// pktDecoder decodes captured frames into TCP Packets. Its layer structs
// are reused from frame to frame, so the common path (Ethernet, IPv4,
// TCP) allocates nothing; the Packet's payload points into the frame.
type pktDecoder struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	sll2   layers.LinuxSLL2
	loop   layers.Loopback
	ip4    layers.IPv4
	udp    layers.UDP
	gre    layers.GRE
	vxlan  layers.VXLAN
	erspan layers.ERSPANII
	frags  defragState

	stats *SourceStats // counts fragments and tunnels
	pkt   *Packet      // filled on verdictTCP

	// Per-frame state.
	ts        time.Time
	verdict   verdict
	etherType layers.EthernetType // for stepEtherType
	ipProto   layers.IPProtocol   // for stepIPProto
	missing   int                 // bytes of the innermost IP payload the capture lacks
	tunnels   int
}

// linkStep returns the first step for a link type, or stepDone with
// verdictUnknownLink.
func linkStep(lt layers.LinkType) step {
	switch lt {
	case layers.LinkTypeEthernet:
		return stepEthernet
	case layers.LinkTypeLinuxSLL:
		return stepSLL
	case layers.LinkTypeLinuxSLL2:
		return stepSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return stepNull
	case layers.LinkTypeRaw, linkTypeRawOpenBSD, linkTypeRawBSDOS:
		return stepIP
	case layers.LinkTypeIPv4:
		return stepIPv4
	case layers.LinkTypeIPv6:
		return stepIPv6
	}
	return stepDone
}

// decode decodes one frame of link type lt captured at ts. On verdictTCP
// the Packet holds the segment, its addresses and truncation; the caller
// sets File, Frame and Time.
func (d *pktDecoder) decode(lt layers.LinkType, data []byte, ts time.Time) verdict {
	d.ts, d.missing, d.tunnels = ts, 0, 0
	d.verdict = verdictUnknownLink
	next := linkStep(lt)
	for i := 0; next != stepDone; i++ {
		if i == maxSteps {
			// Only a crafted packet has this many headers.
			d.verdict = verdictMalformed
			break
		}
		switch next {
		case stepEthernet:
			next, data = d.ethernet(data)
		case stepEtherType:
			next = d.byEtherType()
		case stepVLAN:
			next, data = d.vlan(data)
		case stepMPLS:
			next, data = d.mpls(data)
		case stepSLL:
			next, data = d.linuxSLL(data)
		case stepSLL2:
			next, data = d.linuxSLL2(data)
		case stepNull:
			next, data = d.null(data)
		case stepIP:
			next = d.byVersion(data)
		case stepIPv4:
			next, data = d.ipv4(data)
		case stepIPv6:
			next, data = d.ipv6(data)
		case stepIPProto:
			next = d.byIPProto()
		case stepUDP:
			next, data = d.udpLayer(data)
		case stepGRE:
			next, data = d.greLayer(data)
		case stepVXLAN:
			next, data = d.vxlanLayer(data)
		case stepERSPAN2:
			next, data = d.erspan2(data)
		case stepERSPAN3:
			next, data = d.erspan3(data)
		case stepTCP:
			next = d.tcp(data)
		}
	}
	if d.tunnels > 0 {
		d.stats.Tunnelled++
	}
	return d.verdict
}

// done ends decoding with v.
func (d *pktDecoder) done(v verdict) step {
	d.verdict = v
	return stepDone
}

// tunnel counts one decapsulation and goes on with next, or gives up as
// malformed past maxTunnels.
func (d *pktDecoder) tunnel(next step) step {
	d.tunnels++
	if d.tunnels > maxTunnels {
		return d.done(verdictMalformed)
	}
	return next
}
