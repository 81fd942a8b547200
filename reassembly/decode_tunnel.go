package reassembly

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// GRE protocol types gopacket has no name for.
const (
	greProtoTEB     layers.EthernetType = 0x6558 // transparent Ethernet bridging
	greProtoERSPAN3 layers.EthernetType = 0x22EB // ERSPAN type III
)

// greLayer decodes a GRE header (RFC 2784/2890: checksum, key and sequence
// number are optional and gopacket skips them) and picks what it carries.
// ERSPAN type I and II share protocol 0x88BE: type II sets the sequence
// number bit, type I (no ERSPAN header at all) does not.
func (d *pktDecoder) greLayer(data []byte) (step, []byte) {
	if err := d.gre.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	payload := d.gre.Payload
	switch d.gre.Protocol {
	case layers.EthernetTypeIPv4:
		return stepIPv4, payload
	case layers.EthernetTypeIPv6:
		return stepIPv6, payload
	case greProtoTEB:
		return stepEthernet, payload
	case layers.EthernetTypeERSPAN:
		if !d.gre.SeqPresent {
			return stepEthernet, payload
		}
		return stepERSPAN2, payload
	case greProtoERSPAN3:
		return stepERSPAN3, payload
	}
	return d.done(verdictNonTCP), nil
}

// erspan2 decodes the 8-byte ERSPAN type II header before the mirrored
// Ethernet frame:
//
//	0: version=1 (4) | VLAN (12) | COS (3) | En (2) | T (1) | session ID (10)
//	4: reserved (12) | index (20)
func (d *pktDecoder) erspan2(data []byte) (step, []byte) {
	if err := d.erspan.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	return stepEthernet, d.erspan.Payload
}

// ERSPAN type III header sizes.
const (
	erspan3Len      = 12
	erspan3Platform = 8 // the platform-specific subheader, when O is set
)

// erspan3 decodes the ERSPAN type III header (draft-foschiano-erspan-03
// section 4.3; gopacket has no layer for it), 12 bytes, then 8 more when
// the O bit is set:
//
//	0:  version=2 (4) | VLAN (12) | COS (3) | BSO (2) | T (1) | session ID (10)
//	4:  timestamp (32)
//	8:  SGT (16) | P (1) | FT (5) | hardware ID (6) | D (1) | Gra (2) | O (1)
//	12: platform ID (6) | platform-specific info (58), when O is set
//
// The frame type FT says what follows: 0 an Ethernet frame, 2 an IP packet;
// other values are reserved.
func (d *pktDecoder) erspan3(data []byte) (step, []byte) {
	if len(data) < erspan3Len || data[0]>>4 != 2 {
		return d.done(verdictMalformed), nil
	}
	n := erspan3Len
	if data[11]&1 != 0 {
		n += erspan3Platform
		if len(data) < n {
			return d.done(verdictMalformed), nil
		}
	}
	switch ft := binary.BigEndian.Uint16(data[10:12]) >> 10 & 0x1f; ft {
	case 0:
		return stepEthernet, data[n:]
	case 2:
		return stepIP, data[n:]
	}
	return d.done(verdictNonTCP), nil
}

// vxlanLayer decodes the 8-byte VXLAN header (RFC 7348) before the inner
// Ethernet frame:
//
//	0: flags (8, I=0x08) | reserved (24)
//	4: VNI (24) | reserved (8)
//
// The I flag must be set; without it the datagram is taken for some other
// protocol that happens to use port 4789, and left alone.
func (d *pktDecoder) vxlanLayer(data []byte) (step, []byte) {
	if err := d.vxlan.DecodeFromBytes(data, nilDF); err != nil {
		return d.done(verdictMalformed), nil
	}
	if !d.vxlan.ValidIDFlag {
		return d.done(verdictNonTCP), nil
	}
	return stepEthernet, d.vxlan.Payload
}
