package reassembly

import (
	"bufio"
	"encoding/binary"
	"fmt"
)

// pcapng block types the guard looks into (pcapng spec, section 4).
const (
	ngBlockIDB = 0x00000001 // interface description
	ngBlockPB  = 0x00000002 // packet (obsolete)
	ngBlockSPB = 0x00000003 // simple packet
	ngBlockISB = 0x00000005 // interface statistics
	ngBlockEPB = 0x00000006 // enhanced packet
	ngBlockSHB = 0x0a0d0d0a // section header: the same in both byte orders
)

// maxNgBlock is the largest block accepted, as in Wireshark (16 MiB).
const maxNgBlock = 16 << 20

// ngCorrupt is a damaged pcapng block found by ngGuard.
type ngCorrupt struct {
	off       int // from the reader's position
	truncated bool
	msg       string
}

func (e *ngCorrupt) Error() string { return e.msg }

// ngGuard checks pcapng blocks before gopacket's reader reads them. Every
// block is laid out
//
//	0: block type (32) | 4: total length (32) | body | total length (32)
//
// in the byte order of its section, set by the section header's byte-order
// magic 0x1A2B3C4D at offset 8. The reader trusts the lengths: a damaged
// one makes it allocate what the rest of the file holds, or read the next
// block from the middle of this one. The guard peeks, without consuming,
// at the blocks up to and including the next packet block (the reader
// consumes them in one call) and stops the file at the first one whose
// lengths disagree, run past the end of the file or break the limits.
type ngGuard struct {
	// order is the byte order of the section the reader is in; nil when
	// it was not followed to the reader's position, to be inferred.
	order binary.ByteOrder
	// resync is set when the blocks checked may include a section header
	// (or were not all seen): the reader's interfaces may have been
	// replaced, and the fast path's copy of them must be read again.
	resync bool
}

// check looks at the blocks ahead in br. Every Peek may move br's buffer,
// so a peeked slice is used only until the next Peek.
func (g *ngGuard) check(br *bufio.Reader) error {
	off := 0
	order := g.order
	for {
		head, err := br.Peek(off + 12)
		if len(head) < off+12 && err == bufio.ErrBufferFull {
			g.order, g.resync = nil, true // too far ahead to check here
			return nil
		}
		if len(head) == off {
			return nil // a clean end of file: the reader says io.EOF
		}
		if len(head) < off+8 {
			return &ngCorrupt{off: off, truncated: true, msg: "truncated block header"}
		}
		if binary.BigEndian.Uint32(head[off:]) == ngBlockSHB {
			g.resync = true
			if len(head) < off+12 {
				return &ngCorrupt{off: off, truncated: true, msg: "truncated section header"}
			}
			switch bom := head[off+8 : off+12]; {
			case binary.BigEndian.Uint32(bom) == 0x1a2b3c4d:
				order = binary.BigEndian
			case binary.LittleEndian.Uint32(bom) == 0x1a2b3c4d:
				order = binary.LittleEndian
			default:
				return &ngCorrupt{off: off, msg: "bad byte-order magic in a section header"}
			}
		}
		if order == nil {
			order = inferOrder(br, off)
			// Peeking further may have moved the buffer: head is stale.
			head, _ = br.Peek(off + 8)
		}
		typ, length := order.Uint32(head[off:]), order.Uint32(head[off+4:])
		if length < 12 || length%4 != 0 || length > maxNgBlock {
			return &ngCorrupt{off: off, msg: fmt.Sprintf("bad block length %d", length)}
		}
		end := off + int(length)
		blk, err := br.Peek(end)
		if len(blk) < end {
			if err == bufio.ErrBufferFull {
				// Too long to check whole here. The reader will read
				// it, with the block length (and the captured length,
				// what it allocates) found sane.
				g.order, g.resync = nil, true
				if fixed, _ := br.Peek(off + 32); len(fixed) == off+32 && (typ == ngBlockEPB || typ == ngBlockPB) {
					if c := ngCheckCaplen(fixed[off:], length, order); c != nil {
						c.off = off
						return c
					}
				}
				return nil
			}
			return &ngCorrupt{off: off, truncated: true, msg: "block runs past the end of the file"}
		}
		if trail := order.Uint32(blk[end-4:]); trail != length {
			return &ngCorrupt{off: off, msg: fmt.Sprintf("block length %d at its start but %d at its end", length, trail)}
		}
		if msg := checkNgBody(typ, blk[off:end], order); msg != "" {
			return &ngCorrupt{off: off, msg: msg}
		}
		switch typ {
		case ngBlockEPB, ngBlockPB, ngBlockSPB:
			g.order = order
			return nil
		}
		off = end
	}
}

// checkNgBody checks the fixed fields of block b (the whole block) that
// the reader would otherwise read past.
func checkNgBody(typ uint32, b []byte, order binary.ByteOrder) string {
	short := 12
	switch typ {
	case ngBlockEPB, ngBlockPB:
		short = 32
	case ngBlockSPB:
		short = 16
	case ngBlockIDB:
		short = 20
	case ngBlockISB:
		short = 24
	case ngBlockSHB:
		short = 28
	}
	if len(b) < short {
		return fmt.Sprintf("block of type %#x too short (%d bytes)", typ, len(b))
	}
	if typ == ngBlockEPB || typ == ngBlockPB {
		if err := ngCheckCaplen(b, uint32(len(b)), order); err != nil {
			return err.msg
		}
	}
	return ""
}

// ngCheckCaplen checks the captured length of a packet block of the given
// length, whose first 32 bytes are b:
//
//	header (8) | interface (32) | timestamp (64) | captured length (32) |
//	original length (32) | data, padded to 32 bits | options | trailer (32)
func ngCheckCaplen(b []byte, length uint32, order binary.ByteOrder) *ngCorrupt {
	if caplen := order.Uint32(b[20:]); uint64(caplen)+32 > uint64(length) {
		return &ngCorrupt{msg: fmt.Sprintf("captured length %d does not fit its %d-byte block", caplen, length)}
	}
	return nil
}

// inferOrder guesses the byte order of the block at off from its lengths:
// the one in which the leading length is sane and matches the trailing.
func inferOrder(br *bufio.Reader, off int) binary.ByteOrder {
	head, _ := br.Peek(off + 8)
	var field [4]byte // copied: the Peeks below may move the buffer
	copy(field[:], head[off+4:])
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		n := o.Uint32(field[:])
		if n < 12 || n%4 != 0 || n > maxNgBlock {
			continue
		}
		if b, _ := br.Peek(off + int(n)); len(b) == off+int(n) && o.Uint32(b[len(b)-4:]) == n {
			return o
		}
	}
	return binary.LittleEndian
}
