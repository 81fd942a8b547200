package synth

import (
	"bufio"
	"encoding/binary"
	"io"
)

// pcapng block types and constants (draft-ietf-opsawg-pcapng).
const (
	blockSHB       = 0x0A0D0D0A
	blockIDB       = 0x00000001
	blockEPB       = 0x00000006
	byteOrderMagic = 0x1A2B3C4D
	linkEthernet   = 1
	snapLen        = 262144
	epbOverhead    = 32 // block header 28 + trailing length 4
	writeBuffer    = 1 << 20
)

// pcapngWriter streams one pcapng section with one Ethernet interface
// (microsecond timestamps, the format's default resolution) and Enhanced
// Packet Blocks. It counts what it wrote; the first write error sticks and
// later writes do nothing.
type pcapngWriter struct {
	w       *bufio.Writer
	bytes   int64
	packets int64
	blk     [28]byte
	tail    [8]byte
	err     error
}

// newPcapngWriter writes the Section Header and Interface Description
// blocks.
func newPcapngWriter(w io.Writer) *pcapngWriter {
	p := &pcapngWriter{w: bufio.NewWriterSize(w, writeBuffer)}
	var b [28]byte
	le := binary.LittleEndian
	// SHB: type, length, byte-order magic, version 1.0, section length
	// unknown (-1), no options, length.
	le.PutUint32(b[0:], blockSHB)
	le.PutUint32(b[4:], 28)
	le.PutUint32(b[8:], byteOrderMagic)
	le.PutUint16(b[12:], 1)
	le.PutUint16(b[14:], 0)
	le.PutUint64(b[16:], ^uint64(0))
	le.PutUint32(b[24:], 28)
	p.write(b[:28])
	// IDB: type, length, link type, reserved, snap length, no options,
	// length.
	le.PutUint32(b[0:], blockIDB)
	le.PutUint32(b[4:], 20)
	le.PutUint16(b[8:], linkEthernet)
	le.PutUint16(b[10:], 0)
	le.PutUint32(b[12:], snapLen)
	le.PutUint32(b[16:], 20)
	p.write(b[:20])
	return p
}

func (p *pcapngWriter) write(b []byte) {
	if p.err != nil {
		return
	}
	n, err := p.w.Write(b)
	p.bytes += int64(n)
	p.err = err
}

// epbSize is the size of the Enhanced Packet Block of an n-byte packet.
func epbSize(n int) int { return epbOverhead + n + (4-n&3)&3 }

// packet writes one Enhanced Packet Block holding hdr followed by payload,
// captured in full at time ns (Unix nanoseconds).
func (p *pcapngWriter) packet(ns int64, hdr, payload []byte) {
	n := len(hdr) + len(payload)
	pad := (4 - n&3) & 3
	total := uint32(epbOverhead + n + pad)
	us := uint64(ns / 1000)
	le := binary.LittleEndian
	le.PutUint32(p.blk[0:], blockEPB)
	le.PutUint32(p.blk[4:], total)
	le.PutUint32(p.blk[8:], 0) // interface 0
	le.PutUint32(p.blk[12:], uint32(us>>32))
	le.PutUint32(p.blk[16:], uint32(us))
	le.PutUint32(p.blk[20:], uint32(n))
	le.PutUint32(p.blk[24:], uint32(n))
	p.write(p.blk[:])
	p.write(hdr)
	p.write(payload)
	// Zero padding to a 4-byte boundary, then the length again.
	p.tail = [8]byte{}
	le.PutUint32(p.tail[pad:], total)
	p.write(p.tail[:pad+4])
	p.packets++
}

// flush writes out what the buffer holds.
func (p *pcapngWriter) flush() error {
	if p.err == nil {
		p.err = p.w.Flush()
	}
	return p.err
}
