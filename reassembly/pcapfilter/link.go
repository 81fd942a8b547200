package pcapfilter

import (
	"github.com/gopacket/gopacket/layers"
)

// EtherTypes the primitives test.
const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherARP  = 0x0806
	etherRARP = 0x8035
)

// linkLayout says where a link type keeps the network layer and how to
// tell its protocol.
//
//	Ethernet   dst(6) src(6) type(2) | network layer at 14
//	SLL        pkttype(2) hatype(2) halen(2) addr(8) protocol(2) | at 16
//	SLL2       protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
//	           halen(1) addr(8) | at 20
//	raw IP     network layer at 0; IPv4 or IPv6 by the version nibble
//	IPv4, IPv6 network layer at 0, of that version only
//
// VLAN tags are not looked through, as in tcpdump without "vlan".
type linkLayout struct {
	// typeOff is the offset of the 16-bit EtherType; -1 when the link has
	// none (raw IP and the IP link types).
	typeOff int
	// nl is the offset of the network layer.
	nl uint32
	// only is the one IP version of an IPv4 or IPv6 link, 0 otherwise.
	only int
}

// layoutOf returns the layout of a link type.
func layoutOf(lt layers.LinkType) (linkLayout, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return linkLayout{typeOff: 12, nl: 14}, true
	case layers.LinkTypeLinuxSLL:
		return linkLayout{typeOff: 14, nl: 16}, true
	case layers.LinkTypeLinuxSLL2:
		return linkLayout{typeOff: 0, nl: 20}, true
	case layers.LinkTypeRaw, 12, 14: // LINKTYPE_RAW and the BSDs' DLT_RAW values
		return linkLayout{typeOff: -1}, true
	case layers.LinkTypeIPv4:
		return linkLayout{typeOff: -1, only: 4}, true
	case layers.LinkTypeIPv6:
		return linkLayout{typeOff: -1, only: 6}, true
	}
	return linkLayout{}, false
}

// isEther tests the link's protocol field: IPv4, IPv6, ARP or RARP.
func (l linkLayout) isEther(etherType uint32) pred {
	if l.typeOff >= 0 {
		return test{off: uint32(l.typeOff), size: 2, op: opEq, val: etherType}
	}
	version := map[uint32]int{etherIPv4: 4, etherIPv6: 6}[etherType]
	switch {
	case version == 0: // ARP and RARP never travel as raw IP
		return predFalse{}
	case l.only != 0:
		if l.only == version {
			return predTrue{}
		}
		return predFalse{}
	}
	return test{off: 0, size: 1, mask: 0xf0, op: opEq, val: uint32(version) << 4}
}
