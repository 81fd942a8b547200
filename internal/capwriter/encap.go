package capwriter

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Link is the link-layer framing of a capture interface.
type Link uint8

// Links a capture can be written in.
const (
	Ethernet Link = iota // LINKTYPE_ETHERNET (1), tagged with Encap.VLANs
	SLL                  // LINKTYPE_LINUX_SLL (113): Linux cooked capture v1
	SLL2                 // LINKTYPE_LINUX_SLL2 (276): tcpdump -i any since libpcap 1.10
	Null                 // LINKTYPE_NULL (0): address family in host byte order
	Loop                 // LINKTYPE_LOOP (108): address family big-endian
	Raw                  // LINKTYPE_RAW (101, or Encap.RawLinkType): the bare IP datagram
	RawIPv4              // LINKTYPE_IPV4 (228)
	RawIPv6              // LINKTYPE_IPV6 (229)
)

var linkNames = [...]string{"ethernet", "sll", "sll2", "null", "loop", "raw", "raw-ipv4", "raw-ipv6"}

// String returns the link's short name.
func (l Link) String() string {
	if int(l) < len(linkNames) {
		return linkNames[l]
	}
	return fmt.Sprintf("UNKNOWN_LINK_%d", uint8(l))
}

// Tunnel is an encapsulation a switch mirror port or overlay network wraps
// a packet in. Every tunnel adds an outer IPv4 header from 198.51.100.1 to
// 198.51.100.2.
type Tunnel uint8

// Tunnels.
const (
	GRE             Tunnel = iota + 1 // the IP datagram in GRE (protocol 0x0800/0x86DD)
	GREKeyed                          // as GRE, with the checksum, key and sequence fields present
	GRETEB                            // Ethernet in GRE, transparent Ethernet bridging (0x6558)
	ERSPAN2                           // GRE 0x88BE, 8-byte ERSPAN type II header, Ethernet
	ERSPAN3                           // GRE 0x22EB, 12-byte ERSPAN type III header, Ethernet
	ERSPAN3Platform                   // as ERSPAN3, plus the 8-byte platform subheader (O bit)
	VXLAN                             // UDP to port 4789, 8-byte VXLAN header, Ethernet
)

var tunnelNames = [...]string{"", "gre", "gre-keyed", "gre-teb", "erspan2", "erspan3", "erspan3-platform", "vxlan"}

// String returns the tunnel's short name.
func (t Tunnel) String() string {
	if t > 0 && int(t) < len(tunnelNames) {
		return tunnelNames[t]
	}
	return fmt.Sprintf("UNKNOWN_TUNNEL_%d", uint8(t))
}

// Encap says how a [Packet] is framed in the capture.
type Encap struct {
	Link Link
	// RawLinkType replaces 101 as the link type of Link Raw: 12 and 14 are
	// raw IP on some BSDs.
	RawLinkType layers.LinkType
	// VLANs are 802.1Q tags on an Ethernet link, outermost first. With more
	// than one, the outer tag uses the 802.1ad TPID 0x88A8 (QinQ).
	VLANs []uint16
	// NullBigEndian writes a Null header's address family big-endian, as a
	// big-endian host does.
	NullBigEndian bool
	// AFInet6 is the address family Null and Loop headers give IPv6. Zero
	// means 24 (NetBSD, OpenBSD); FreeBSD uses 28 and macOS 30.
	AFInet6 uint32
	// Tunnels wrap each datagram, outermost first.
	Tunnels []Tunnel
	// FragmentSize, when positive, splits every inner IP datagram whose
	// payload is longer into fragments of at most FragmentSize payload
	// bytes (rounded down to a multiple of 8, at least 8).
	FragmentSize int
}

// LinkType returns the link type records framed by e carry.
func (e Encap) LinkType() layers.LinkType {
	switch e.Link {
	case SLL:
		return layers.LinkTypeLinuxSLL
	case SLL2:
		return layers.LinkTypeLinuxSLL2
	case Null:
		return layers.LinkTypeNull
	case Loop:
		return layers.LinkTypeLoop
	case Raw:
		if e.RawLinkType != 0 {
			return e.RawLinkType
		}
		return layers.LinkTypeRaw
	case RawIPv4:
		return layers.LinkTypeIPv4
	case RawIPv6:
		return layers.LinkTypeIPv6
	}
	return layers.LinkTypeEthernet
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
)

// serialize runs gopacket.SerializeLayers with lengths and checksums fixed.
func serialize(ls ...gopacket.SerializableLayer) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Frames returns the records p becomes: one, or one per fragment.
func (e Encap) Frames(p Packet) ([][]byte, error) {
	dgrams, err := datagrams(p, e.FragmentSize)
	if err != nil {
		return nil, err
	}
	frames := make([][]byte, 0, len(dgrams))
	for _, d := range dgrams {
		for i := len(e.Tunnels) - 1; i >= 0; i-- {
			if d, err = tunnel(e.Tunnels[i], d); err != nil {
				return nil, err
			}
		}
		f, err := e.frame(d)
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
	}
	return frames, nil
}

// etherType returns the EtherType of IP datagram d, by its version.
func etherType(d []byte) layers.EthernetType {
	if len(d) > 0 && d[0]>>4 == 6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

// ethernet frames d in Ethernet with the given 802.1Q tags.
func ethernet(d []byte, vlans []uint16) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: etherType(d)}
	ls := []gopacket.SerializableLayer{eth}
	if len(vlans) > 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		if len(vlans) > 1 {
			eth.EthernetType = layers.EthernetTypeQinQ
		}
		for i, id := range vlans {
			tag := &layers.Dot1Q{VLANIdentifier: id, Type: layers.EthernetTypeDot1Q}
			if i == len(vlans)-1 {
				tag.Type = etherType(d)
			}
			ls = append(ls, tag)
		}
	}
	return serialize(append(ls, gopacket.Payload(d))...)
}

// frame puts the link-layer header of e in front of IP datagram d.
func (e Encap) frame(d []byte) ([]byte, error) {
	v6 := etherType(d) == layers.EthernetTypeIPv6
	switch e.Link {
	case Ethernet:
		return ethernet(d, e.VLANs)
	case SLL:
		// Linux cooked v1: packet type, ARPHRD type, address length,
		// 8-byte address field, protocol (EtherType).
		h := make([]byte, 16, 16+len(d))
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], macA)
		binary.BigEndian.PutUint16(h[14:], uint16(etherType(d)))
		return append(h, d...), nil
	case SLL2:
		// Linux cooked v2: protocol, reserved, interface index, ARPHRD
		// type, packet type, address length, 8-byte address field.
		h := make([]byte, 20, 20+len(d))
		binary.BigEndian.PutUint16(h[0:], uint16(etherType(d)))
		binary.BigEndian.PutUint32(h[4:], 2)
		binary.BigEndian.PutUint16(h[8:], 1)
		h[10] = 4 // PACKET_OUTGOING
		h[11] = 6
		copy(h[12:], macA)
		return append(h, d...), nil
	case Null, Loop:
		af := uint32(2)
		if v6 {
			af = e.AFInet6
			if af == 0 {
				af = 24
			}
		}
		h := make([]byte, 4, 4+len(d))
		if e.Link == Loop || e.NullBigEndian {
			binary.BigEndian.PutUint32(h, af)
		} else {
			binary.LittleEndian.PutUint32(h, af)
		}
		return append(h, d...), nil
	case Raw:
		return d, nil
	case RawIPv4, RawIPv6:
		if v6 != (e.Link == RawIPv6) {
			return nil, fmt.Errorf("capwriter: IPv%d datagram on link %v", 4+2*btoi(v6), e.LinkType())
		}
		return d, nil
	}
	return nil, fmt.Errorf("capwriter: unknown link %d", e.Link)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
