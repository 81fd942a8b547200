package reassembly

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Packet is one TCP segment decoded from a capture, ready for connection
// tracking and reassembly.
//
// A Source reuses the Packet it returns (and the memory TCP.Payload points
// into) on the next call to Next: copy what must outlive it.
type Packet struct {
	// File is the index of the capture file in the run's list of inputs.
	File int
	// Chain is the index of the first file of the files File follows on
	// from (files that follow each other in time, a ring buffer's: see
	// OpenFiles), File itself when it follows none. Connections go on
	// from one file of a chain to the next.
	Chain int
	// Frame is the packet's 1-based position in its file, counting every
	// packet of the file (TCP or not), as Wireshark numbers frames; in a
	// file that follows others (Chain), it counts on from the frames of
	// the chain's files before it (SourceStats.FrameBase): FrameLocator
	// gives back the file's own number.
	Frame int64
	// Time is the capture timestamp.
	Time time.Time
	// Src and Dst are the innermost IP addresses (after any tunnel).
	Src, Dst netip.Addr
	// TCP is the decoded TCP header; TCP.Payload holds the segment's
	// payload as captured.
	TCP layers.TCP
	// Truncated is set when the capture cut the segment's payload short
	// (snaplen): Payload then holds fewer bytes than the segment carried,
	// and MissingBytes says how many are missing.
	Truncated    bool
	MissingBytes int

	// Set by the reassembler's numberer (numbering.go) before reassembly:
	// the conversation's key, the sender's side of it, its tcp.stream and
	// run-wide number, whether the packet starts it, the capture clock and
	// the conversation's shard hash.
	key    tupleKey
	side   int
	stream int
	conv   int
	fresh  bool
	now    time.Time
	shard  uint64 // the conversation's fixed hash: which worker owns it
	slot   uint32 // the conversation's slot in the numberer: the tracker's index
	// tick marks a clock-only entry of a shard's batch (shard.go).
	tick bool
}

// SourceStats counts what a source read and what it could not use.
type SourceStats struct {
	// Files lists the inputs in the order they were given.
	Files []string
	// Packets and Bytes count every record read (captured lengths).
	Packets int64
	Bytes   int64
	// TCP counts packets that decoded to a TCP segment and were returned.
	TCP int64
	// NonTCP counts packets that decoded fine but carry no TCP (UDP, ARP…).
	NonTCP int64
	// Malformed counts packets whose headers could not be decoded.
	Malformed int64
	// Truncated counts TCP segments whose payload the snaplen cut short.
	Truncated int64
	// Fragments counts IPv4/IPv6 fragments seen; FragmentsReassembled the
	// datagrams rebuilt from them.
	Fragments            int64
	FragmentsReassembled int64
	// Tunnelled counts packets decapsulated from GRE, ERSPAN or VXLAN.
	Tunnelled int64
	// UnknownLinkType counts packets on link types the decoder does not
	// handle.
	UnknownLinkType int64
	// Filtered counts records a -f filter rejected (files only; a live
	// capture filters in the kernel).
	Filtered int64
	// CorruptRecords counts damaged records the reader skipped over.
	CorruptRecords int64
	// TLSSecretsBlocks counts pcapng Decryption Secrets Blocks holding a
	// TLS key log (editcap --inject-secrets); their secrets decrypt the
	// capture's TLS without a key log file (EmbeddedKeyLogs).
	TLSSecretsBlocks int64
	// FirstSeen and LastSeen are the earliest and latest packet timestamps.
	FirstSeen, LastSeen time.Time
	// Interface is the interface of a live capture ("any" for all), ""
	// for files.
	Interface string
	// KernelDrops counts packets the kernel captured but dropped because
	// the capture's ring buffer was full (live capture only): the report
	// misses them.
	KernelDrops int64
	// Chain and FrameBase say which files follow each other (a ring
	// buffer's, see OpenFiles), by file: Chain[i] is the index of the
	// first file of file i's chain (i when no file precedes it), and
	// FrameBase[i] the frames of the chain's files before file i, which
	// the Frame of file i's packets counts on from. Both are nil for a
	// single input.
	Chain     []int
	FrameBase []int64
	// Warnings are notes for the user, one line each, on input that was
	// damaged or skipped: "trace.pcapng: truncated at offset 12345 (the
	// file was cut off; the 310 packets before it were analysed)".
	Warnings []string
}

// Source delivers decoded TCP packets in capture order.
type Source interface {
	// Next returns the next TCP packet. Packets that carry no TCP are
	// counted in Stats and skipped. At the end of input Next returns
	// io.EOF; any other error is fatal and is a *FileError.
	Next() (*Packet, error)
	// Stats returns the counts so far.
	Stats() SourceStats
	// Close releases the source's files.
	Close() error
}
