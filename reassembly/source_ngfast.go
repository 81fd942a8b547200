package reassembly

import (
	"encoding/binary"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The fast path for pcapng packets. Nearly every block of a capture is an
// Enhanced Packet Block without options, and the read buffer holds it
// whole. gopacket's NgReader reads such a block in pieces through the
// bufio.Reader (a call per field), copies the packet into a buffer of its
// own and walks the (empty) options; ngGuard and scanSecrets have each
// peeked at the same block before it. Reading it here straight from the
// buffer, with every check the guard makes, takes a third of that.
// Everything else (section and interface blocks, statistics, secrets,
// options, simple or obsolete packet blocks, damage, blocks larger than the
// buffer) goes the slow way, through the guard and the NgReader, which
// keep the last word on what a block means.

// ngIface is what the fast path needs of one of the NgReader's interfaces:
// the link type and the timestamp arithmetic of the reader's convertTime.
type ngIface struct {
	linkType   layers.LinkType
	secondMask uint64 // timestamp units per second
	scaleUp    uint64
	scaleDown  uint64
	offset     uint64 // seconds added to every timestamp
}

// newNgIface derives the timestamp arithmetic from the interface's
// resolution as the NgReader does (readInterfaceDescriptor): it keeps it
// unexported. The reader has rejected resolutions it cannot represent and
// set a missing one to microseconds.
func newNgIface(in pcapgo.NgInterface) ngIface {
	res := in.TimestampResolution
	mask := uint64(1)
	if res.Binary() {
		mask <<= res.Exponent()
	} else {
		for range res.Exponent() {
			mask *= 10 // 10^20 and beyond wrap, as in the reader
		}
	}
	up, down := uint64(1), uint64(1)
	if mask < 1e9 {
		up = 1e9 / mask
	} else {
		down = mask / 1e9
	}
	return ngIface{linkType: in.LinkType, secondMask: mask, scaleUp: up, scaleDown: down, offset: in.TimestampOffset}
}

// syncIfaces brings f.ifaces up to date with the NgReader's interfaces
// after the slow path read blocks: all of them again when a section
// header may have replaced the table, else only those added since.
func (f *captureFile) syncIfaces() {
	if f.guard.resync {
		f.guard.resync = false
		f.ifaces = f.ifaces[:0]
	}
	for i := len(f.ifaces); i < f.ng.NInterfaces(); i++ {
		in, err := f.ng.Interface(i)
		if err != nil {
			break
		}
		f.ifaces = append(f.ifaces, newNgIface(in))
	}
}

// ngU32 reads a 32-bit field in the section's byte order. A bool rather
// than a binary.ByteOrder: the interface call costs on every field.
func ngU32(b []byte, big bool) uint32 {
	if big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// readFastNg reads the next block when it is an option-less Enhanced
// Packet Block lying whole in the read buffer, of a known interface, in a
// section whose byte order the guard followed. Otherwise ok is false and
// nothing was consumed. data points into the read buffer: it is valid
// until the next read, as the NgReader's own buffer was.
//
//	0: type (32) | 4: length (32) | 8: interface (32) | 12: timestamp (64) |
//	20: captured length (32) | 24: original length (32) | 28: data, padded to 32 bits | trailer length (32)
func (f *captureFile) readFastNg() (data []byte, ts time.Time, lt layers.LinkType, ok bool) {
	if f.guard.order == nil {
		return nil, ts, 0, false
	}
	big := f.guard.order == binary.BigEndian
	hdr, _ := f.br.Peek(28)
	if len(hdr) < 28 || ngU32(hdr, big) != ngBlockEPB {
		return nil, ts, 0, false
	}
	length, caplen := ngU32(hdr[4:], big), ngU32(hdr[20:], big)
	// The guard's checks: a sane length, the captured length within it
	// (here: exactly it, since there are no options) and the trailer.
	if uint64(length) != 32+(uint64(caplen)+3)&^3 || length > maxNgBlock {
		return nil, ts, 0, false
	}
	n := int(length)
	blk, _ := f.br.Peek(n)
	if len(blk) < n || ngU32(blk[n-4:], big) != length {
		return nil, ts, 0, false
	}
	idx := ngU32(blk[8:], big)
	if uint64(idx) >= uint64(len(f.ifaces)) {
		return nil, ts, 0, false // maybe not synced yet, or damage: the reader says
	}
	in := &f.ifaces[idx]
	if in.secondMask == 0 {
		return nil, ts, 0, false
	}
	units := uint64(ngU32(blk[12:], big))<<32 | uint64(ngU32(blk[16:], big))
	ts = time.Unix(int64(units/in.secondMask+in.offset), int64(units%in.secondMask*in.scaleUp/in.scaleDown)).UTC()
	end := 28 + int(caplen)
	data = blk[28:end:end]
	_, _ = f.br.Discard(n) // cannot fail: the block is buffered
	return data, ts, in.linkType, true
}
