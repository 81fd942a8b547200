package synth

import (
	"encoding/binary"
	"net/netip"
)

// TCP flags as they sit in the header's flags byte.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagPSH = 0x08
	flagACK = 0x10
)

// endpoint is one end of a conversation as the wire shows it.
type endpoint struct {
	addr netip.Addr
	port uint16
	mac  [6]byte
}

// The capture point sits between the access router and the servers, so
// every client frame comes from the router's MAC and every server frame
// from the server side's.
var (
	routerMAC = [6]byte{0x00, 0x1b, 0x21, 0x3a, 0x4c, 0x01}
	serverMAC = [6]byte{0x00, 0x50, 0x56, 0x9e, 0x10, 0x80}
)

// maxHeader is the longest header encodeHeader writes: Ethernet 14, IPv6
// 40, TCP with the MSS option 24.
const maxHeader = 14 + 40 + 24

// segment describes one packet's transport header.
type segment struct {
	udp      bool
	flags    uint8
	seq, ack uint32
	window   uint16
	ipID     uint16
	ttl      uint8
	n        int // payload length
}

// encodeHeader writes the Ethernet, IP and TCP (or UDP) headers of a packet
// from src to dst into buf and returns them. The IPv4 header checksum is
// computed, and the UDP checksum (a zero one is illegal over IPv6, and
// datagrams are few); TCP checksums are left zero (readers do not verify
// them by default). A SYN carries the MSS option.
func encodeHeader(buf *[maxHeader]byte, src, dst *endpoint, s *segment, payload []byte) []byte {
	be := binary.BigEndian
	b := buf[:]
	copy(b[0:6], dst.mac[:])
	copy(b[6:12], src.mac[:])
	l4 := 20
	if s.udp {
		l4 = 8
	} else if s.flags&flagSYN != 0 {
		l4 = 24
	}
	var off int
	if src.addr.Is4() {
		be.PutUint16(b[12:], 0x0800)
		ip := b[14:34]
		ip[0], ip[1] = 0x45, 0
		be.PutUint16(ip[2:], uint16(20+l4+s.n))
		be.PutUint16(ip[4:], s.ipID)
		be.PutUint16(ip[6:], 0x4000) // don't fragment
		ip[8] = s.ttl
		ip[9] = 6
		if s.udp {
			ip[9] = 17
		}
		ip[10], ip[11] = 0, 0
		a, d := src.addr.As4(), dst.addr.As4()
		copy(ip[12:16], a[:])
		copy(ip[16:20], d[:])
		be.PutUint16(ip[10:], ipv4Checksum(ip))
		off = 34
	} else {
		be.PutUint16(b[12:], 0x86DD)
		ip := b[14:54]
		be.PutUint32(ip[0:], 6<<28)
		be.PutUint16(ip[4:], uint16(l4+s.n))
		ip[6] = 6
		if s.udp {
			ip[6] = 17
		}
		ip[7] = s.ttl
		a, d := src.addr.As16(), dst.addr.As16()
		copy(ip[8:24], a[:])
		copy(ip[24:40], d[:])
		off = 54
	}
	t := b[off : off+l4]
	be.PutUint16(t[0:], src.port)
	be.PutUint16(t[2:], dst.port)
	if s.udp {
		be.PutUint16(t[4:], uint16(8+s.n))
		be.PutUint16(t[6:], 0)
		be.PutUint16(t[6:], udpChecksum(src.addr, dst.addr, t[:8], payload))
		return b[:off+8]
	}
	be.PutUint32(t[4:], s.seq)
	be.PutUint32(t[8:], s.ack)
	t[12] = byte(l4/4) << 4
	t[13] = s.flags
	be.PutUint16(t[14:], s.window)
	be.PutUint32(t[16:], 0) // checksum, urgent pointer
	if l4 == 24 {
		mss := uint16(1460)
		if !src.addr.Is4() {
			mss = 1440
		}
		t[20], t[21] = 2, 4
		be.PutUint16(t[22:], mss)
	}
	return b[:off+l4]
}

// udpChecksum returns the UDP checksum over the pseudo-header, the UDP
// header (checksum zero) and the payload (RFC 768, RFC 8200 8.1).
func udpChecksum(src, dst netip.Addr, hdr, payload []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(src.AsSlice())
	add(dst.AsSlice())
	sum += 17 + uint32(len(hdr)+len(payload))
	add(hdr)
	add(payload)
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if c := ^uint16(sum); c != 0 {
		return c
	}
	return 0xffff
}

// ipv4Checksum returns the one's complement sum of a 20-byte header whose
// checksum field is zero.
func ipv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
