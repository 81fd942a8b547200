package capwriter

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Flags are TCP header flags.
type Flags uint8

// TCP flags, as in the header's flags byte.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
)

var flagNames = [...]string{"FIN", "SYN", "RST", "PSH", "ACK"} // bit order, as tcpdump prints them

// Has reports whether all of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// String returns the set flags joined by "|", such as "SYN|ACK".
func (f Flags) String() string {
	var names []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// Packet is one TCP segment before framing: what a [Writer] turns into one
// record (or several, when an [Encap] fragments it).
type Packet struct {
	// Time is the record's capture timestamp.
	Time time.Time
	// Src and Dst are the segment's endpoints; both IPv4 or both IPv6.
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    Flags
	Window   uint16
	// ID is the IPv4 identification (and IPv6 fragment identification);
	// fragments of one datagram share it.
	ID      uint16
	Payload []byte
}

// Packets is a list of segments in capture order. Its methods edit the list
// to script what went wrong on the wire; none of them touches timestamps,
// so call [Packets.Restamp] after reordering when times must rise in file
// order.
type Packets []Packet

// Swap exchanges packets i and j (reordering on the wire) and returns ps.
func (ps Packets) Swap(i, j int) Packets {
	ps[i], ps[j] = ps[j], ps[i]
	return ps
}

// Permute returns the packets in the given order: order[k] is the index in
// ps of the packet to put at position k. Indexes may repeat or be left out.
func (ps Packets) Permute(order ...int) Packets {
	out := make(Packets, 0, len(order))
	for _, i := range order {
		out = append(out, ps[i])
	}
	return out
}

// Duplicate returns ps with a copy of packet i inserted right after it: a
// retransmission of the same bytes.
func (ps Packets) Duplicate(i int) Packets {
	return ps.Insert(i+1, ps[i])
}

// Drop returns ps without the packets at the given indexes (loss: the
// receiver's stream has a gap, or a missing handshake).
func (ps Packets) Drop(idx ...int) Packets {
	out := make(Packets, 0, len(ps))
	for i, p := range ps {
		if !slices.Contains(idx, i) {
			out = append(out, p)
		}
	}
	return out
}

// Insert returns ps with p inserted before index at (len(ps) appends). Use
// it with [Conversation.Segment] to script a retransmission that overlaps
// a different range than the original segments.
func (ps Packets) Insert(at int, p ...Packet) Packets {
	return slices.Insert(slices.Clone(ps), at, p...)
}

// Restamp sets packet k's time to base + k*step and returns ps.
func (ps Packets) Restamp(base time.Time, step time.Duration) Packets {
	for k := range ps {
		ps[k].Time = base.Add(time.Duration(k) * step)
	}
	return ps
}
