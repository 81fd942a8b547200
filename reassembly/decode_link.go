package reassembly

import (
	"github.com/gopacket/gopacket/layers"
)

// EtherTypes gopacket has no name for.
const (
	etherTypeQinQOld  layers.EthernetType = 0x9100 // pre-802.1ad QinQ, still on some switches
	etherTypeQinQ9200 layers.EthernetType = 0x9200
)

// maxMPLSLabels bounds an MPLS label stack.
const maxMPLSLabels = 16

// ethernet decodes an Ethernet II header. An 802.3 frame (length instead of
// EtherType) carries LLC, never IP directly.
func (d *pktDecoder) ethernet(data []byte) (step, []byte) {
	if err := d.eth.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	if d.eth.EthernetType == layers.EthernetTypeLLC {
		return d.done(verdictNonTCP), nil
	}
	d.etherType = d.eth.EthernetType
	return stepEtherType, d.eth.Payload
}

// byEtherType picks the header d.etherType announces.
func (d *pktDecoder) byEtherType() step {
	switch d.etherType {
	case layers.EthernetTypeIPv4:
		return stepIPv4
	case layers.EthernetTypeIPv6:
		return stepIPv6
	case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ, etherTypeQinQOld, etherTypeQinQ9200:
		return stepVLAN
	case layers.EthernetTypeMPLSUnicast, layers.EthernetTypeMPLSMulticast:
		return stepMPLS
	}
	return d.done(verdictNonTCP)
}

// vlan decodes one 802.1Q/802.1ad tag (4 bytes: TCI, then the EtherType of
// what follows); stacked tags (QinQ) come back here once per tag.
func (d *pktDecoder) vlan(data []byte) (step, []byte) {
	if err := d.dot1q.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	if d.dot1q.Type < 0x0600 { // an 802.3 length: LLC follows
		return d.done(verdictNonTCP), nil
	}
	d.etherType = d.dot1q.Type
	return stepEtherType, d.dot1q.Payload
}

// mpls skips an MPLS label stack, 4 bytes a label:
//
//	label (20) | traffic class (3) | bottom of stack (1) | TTL (8)
//
// MPLS does not say what follows the stack; like Wireshark, an IP version
// nibble of 4 or 6 is taken for IP, anything else (pseudowires) is skipped.
func (d *pktDecoder) mpls(data []byte) (step, []byte) {
	for range maxMPLSLabels {
		if len(data) < 4 {
			return d.done(verdictMalformed), nil
		}
		bottom := data[2]&1 != 0
		data = data[4:]
		if bottom {
			if len(data) > 0 && (data[0]>>4 == 4 || data[0]>>4 == 6) {
				return stepIP, data
			}
			return d.done(verdictNonTCP), nil
		}
	}
	return d.done(verdictMalformed), nil
}

// linuxSLL decodes a Linux cooked capture v1 header (16 bytes: packet type,
// ARPHRD type, address length, 8-byte address, protocol).
func (d *pktDecoder) linuxSLL(data []byte) (step, []byte) {
	if err := d.sll.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	d.etherType = d.sll.EthernetType
	return stepEtherType, d.sll.Payload
}

// linuxSLL2 decodes a Linux cooked capture v2 header (20 bytes: protocol,
// reserved, interface index, ARPHRD type, packet type, address length,
// 8-byte address), what tcpdump -i any writes since libpcap 1.10.
func (d *pktDecoder) linuxSLL2(data []byte) (step, []byte) {
	if err := d.sll2.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	d.etherType = d.sll2.ProtocolType
	return stepEtherType, d.sll2.Payload
}

// null decodes the 4-byte address family of LINKTYPE_NULL (host byte order
// of the capturing machine) and LINKTYPE_LOOP (big-endian). gopacket's
// Loopback tells the byte order by which half is zero. AF_INET is 2
// everywhere; AF_INET6 differs: 10 Linux, 23 Windows, 24 NetBSD/OpenBSD,
// 28 FreeBSD, 30 macOS.
func (d *pktDecoder) null(data []byte) (step, []byte) {
	if err := d.loop.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	switch d.loop.Family {
	case 2:
		return stepIPv4, d.loop.Payload
	case 10, 23, 24, 28, 30:
		return stepIPv6, d.loop.Payload
	}
	return d.done(verdictNonTCP), nil
}

// byVersion picks IPv4 or IPv6 by the version nibble, for links (raw IP,
// MPLS, ERSPAN III) that do not say which.
func (d *pktDecoder) byVersion(data []byte) step {
	if len(data) == 0 {
		return d.done(verdictMalformed)
	}
	switch data[0] >> 4 {
	case 4:
		return stepIPv4
	case 6:
		return stepIPv6
	}
	return d.done(verdictMalformed)
}
