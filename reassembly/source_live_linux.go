package reassembly

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
)

// liveBlock is the size of one block of the TPACKET_V3 ring. A packet
// must fit in a block: 1 MiB holds the 64 KiB segments loopback carries
// (no segmentation offload to undo there).
const liveBlock = 1 << 20

// blockTimeout is how long the kernel fills a block before handing it
// over part full: the latency of an idle capture.
const blockTimeout = 50 * time.Millisecond

// LiveSource captures packets from a network interface with an AF_PACKET
// socket and a TPACKET_V3 ring (gopacket's afpacket: no libpcap, no cgo),
// the kernel running the filter, and decodes them as the file sources do.
//
// Ethernet and loopback interfaces are read with their Ethernet header;
// every other interface, and "any" (all interfaces, through one socket
// bound to none), is read cooked: the kernel strips the link header and
// the packets are raw IP. afpacket does not pass on a packet's protocol
// or packet type, so the kernel program keeps IP packets only on cooked
// sockets, and drops the outgoing copy of loopback packets (see
// kernelGuards).
//
// Concurrency: Next, Close and the Writer run in the caller's goroutine;
// Stop and Stats may be called from any goroutine. Closing a ring while
// another goroutine reads it crashes the process, so Close must not be
// called while Next runs: call Stop, wait for Next to return io.EOF, then
// Close. Next returns within PollTimeout on an idle interface.
type LiveSource struct {
	opts  LiveOptions
	iface LiveInterface
	tp    *afpacket.TPacket
	dec   pktDecoder
	pkt   Packet

	stopAt atomic.Int64 // UnixNano of the Stop call; 0 until then
	done   bool
	// since is when the filter was attached. The socket receives from
	// the moment afpacket binds it, before the filter is on: packets
	// stamped earlier are unfiltered, and skipped.
	since time.Time

	file, frame int64 // file index (from the Writer) and frame in it
	// base counts the frames of the files before file, which a packet's
	// Frame counts on from (the files a capture rotates through follow
	// each other: one chain, as OpenFiles reads them back); bases holds
	// each file's.
	base  int64
	bases []int64
	names map[int]LiveInterface

	mu     sync.Mutex // guards stats, drops and closed, read by Stats from any goroutine
	stats  SourceStats
	drops  int64
	closed bool
}

// OpenLive opens a live capture. The error is a *LiveError: no privilege
// (ErrNoPrivilege, with PrivilegeHint), an unknown interface
// (ErrNoInterface, listing the interfaces), or a filter that does not
// compile.
func OpenLive(opts LiveOptions) (*LiveSource, error) {
	if opts.Snaplen <= 0 {
		opts.Snaplen = pcapfilter.DefaultSnaplen
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = DefaultPollTimeout
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultLiveBuffer
	}
	fail := func(err error, hint string) (*LiveSource, error) {
		return nil, &LiveError{Interface: opts.Interface, Err: err, Hint: hint}
	}
	iface, err := LookupInterface(opts.Interface)
	if err != nil {
		return nil, err
	}
	if opts.Interface == AnyInterface && opts.Promisc {
		return fail(errors.New("--promisc needs one interface, not any"), "name the interface with -i")
	}
	user := opts.Program
	if user == nil && opts.Filter != nil {
		prog, err := opts.Filter.Compile(iface.LinkType, opts.Snaplen)
		if err != nil {
			return fail(err, "")
		}
		if user, err = bpf.Assemble(prog); err != nil {
			return fail(err, "")
		}
	}
	guards := kernelGuards{
		loopback: opts.Interface == AnyInterface || iface.HardwareType == arphrdLoopback,
		ipOnly:   iface.LinkType == layers.LinkTypeRaw,
	}
	prog, err := kernelProgram(guards, user, uint32(opts.Snaplen))
	if err != nil {
		return fail(err, "")
	}
	sockType := afpacket.SocketRaw
	if iface.LinkType == layers.LinkTypeRaw {
		sockType = afpacket.SocketDgram
	}
	name := opts.Interface
	if name == AnyInterface {
		name = "" // afpacket binds to no interface: all of them
	}
	blocks := max((opts.BufferSize+liveBlock-1)/liveBlock, 2)
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(name),
		afpacket.OptSocketType(sockType),
		afpacket.TPacketVersion3,
		afpacket.OptBlockSize(liveBlock),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptBlockTimeout(blockTimeout),
		afpacket.OptPollTimeout(opts.PollTimeout),
	)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return fail(ErrNoPrivilege, PrivilegeHint)
		}
		return fail(err, "")
	}
	s := &LiveSource{opts: opts, iface: iface, tp: tp, names: map[int]LiveInterface{}}
	if err := tp.SetBPF(prog); err != nil {
		tp.Close()
		return fail(fmt.Errorf("the kernel refused the filter program: %w", err), "check --bpf-file is `tcpdump -ddd` output")
	}
	s.since = time.Now()
	if opts.Promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			if errors.Is(err, unix.EPERM) {
				return fail(ErrNoPrivilege, PrivilegeHint)
			}
			return fail(fmt.Errorf("promiscuous mode: %w", err), "")
		}
	}
	s.dec.stats, s.dec.pkt = &s.stats, &s.pkt
	s.stats.Interface = opts.Interface
	if opts.Interface != AnyInterface && iface.Flags&net.FlagUp == 0 {
		s.stats.Warnings = append(s.stats.Warnings, fmt.Sprintf("%s is down: no packets can be seen on it", opts.Interface))
	}
	return s, nil
}

// SetWriter sets LiveOptions.Writer, for a caller that creates its files
// only once the capture could start (so that a capture refused for want of
// privilege does not truncate a previous file). Call it before Next.
func (s *LiveSource) SetWriter(w FrameWriter) { s.opts.Writer = w }

// LinkType returns how captured packets start: Ethernet, or raw IP.
func (s *LiveSource) LinkType() layers.LinkType { return s.iface.LinkType }

// Interface returns the interface captured on.
func (s *LiveSource) Interface() LiveInterface { return s.iface }

// Stop makes Next return io.EOF once it has read what the kernel already
// queued (at most a few hundred milliseconds). It is safe to call from any
// goroutine, more than once.
func (s *LiveSource) Stop() { s.stopAt.CompareAndSwap(0, time.Now().UnixNano()) }

// Next returns the next captured TCP packet, io.EOF after Stop (or
// MaxPackets), or a fatal error: a write error of the Writer.
func (s *LiveSource) Next() (*Packet, error) {
	for !s.done {
		if s.opts.MaxPackets > 0 && s.stats.Packets >= s.opts.MaxPackets {
			break
		}
		if at := s.stopAt.Load(); at != 0 && time.Since(time.Unix(0, at)) > stopDrain {
			break
		}
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			if s.stopAt.Load() != 0 {
				break // the queue is drained
			}
			if s.opts.Idle != nil {
				s.opts.Idle(time.Now())
			}
			continue
		}
		if err != nil {
			// POLLERR: the interface went away or down. What was
			// captured stands, as for a file cut short.
			s.warnf("the capture stopped: %v (the interface went down?)", err)
			break
		}
		if ci.Timestamp.Before(s.since) {
			continue // queued before the filter was attached
		}
		// In UTC, as packets read from files: the shard batches carry
		// times as Unix seconds and rebuild them in UTC (shard_batch.go).
		p, err := s.packet(data, ci.Timestamp.UTC(), ci.Length, ci.InterfaceIndex)
		if err != nil || p != nil {
			return p, err
		}
	}
	s.done = true
	return nil, io.EOF
}

// packet counts, saves and decodes one captured frame; it returns nil
// for a frame that carries no TCP.
func (s *LiveSource) packet(data []byte, ts time.Time, length, ifindex int) (*Packet, error) {
	if s.opts.Writer != nil {
		file, err := s.opts.Writer.WriteFrame(&Frame{Time: ts, Data: data, Length: length,
			LinkType: s.iface.LinkType, Interface: s.ifaceOf(ifindex)})
		if err != nil {
			return nil, &LiveError{Interface: s.opts.Interface, Err: err, Hint: "the packets could not be saved"}
		}
		if int64(file) != s.file {
			s.base += s.frame
			s.file, s.frame = int64(file), 0
		}
	}
	s.frame++
	s.mu.Lock()
	defer s.mu.Unlock()
	for int64(len(s.bases)) <= s.file {
		s.bases = append(s.bases, s.base) // under mu: Stats reads them
	}
	st := &s.stats
	st.Packets++
	st.Bytes += int64(len(data))
	if st.FirstSeen.IsZero() {
		st.FirstSeen = ts
	}
	if ts.After(st.LastSeen) {
		st.LastSeen = ts
	}
	switch s.dec.decode(s.iface.LinkType, data, ts) {
	case verdictTCP:
		st.TCP++
		if s.pkt.Truncated {
			st.Truncated++
		}
		// The files the capture rotates through are one chain: its
		// connections go on across them (see base).
		s.pkt.File, s.pkt.Frame, s.pkt.Time = int(s.file), s.base+s.frame, ts
		return &s.pkt, nil
	case verdictNonTCP:
		st.NonTCP++
	case verdictMalformed:
		st.Malformed++
	case verdictUnknownLink:
		st.UnknownLinkType++
	}
	return nil, nil
}

// ifaceOf returns the interface with index i: the capture's own, or under
// "any" each packet's, looked up once.
func (s *LiveSource) ifaceOf(i int) LiveInterface {
	if s.iface.Index != 0 || i == 0 {
		return s.iface
	}
	li, ok := s.names[i]
	if !ok {
		li = LiveInterface{Index: i, Name: fmt.Sprintf("if%d", i), LinkType: s.iface.LinkType}
		if ni, err := net.InterfaceByIndex(i); err == nil {
			li = describe(*ni)
			li.LinkType = s.iface.LinkType // cooked: raw IP whatever the interface
		}
		s.names[i] = li
	}
	return li
}

// warnf adds a warning about the capture.
func (s *LiveSource) warnf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Warnings = append(s.stats.Warnings, s.opts.Interface+": "+fmt.Sprintf(format, args...))
}

// Stats returns the counts so far, with the kernel's drop count. Files
// are the Writer's files, or "live:IFACE" when nothing is saved. It is
// safe to call from any goroutine.
func (s *LiveSource) Stats() SourceStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateDrops()
	st := s.stats
	st.Warnings = append([]string(nil), s.stats.Warnings...)
	st.KernelDrops = s.drops
	if st.KernelDrops > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"%s: the kernel dropped %d packets (the capture could not keep up): handshakes may be missing from this report; capture with a filter (-f) or a larger --buffer-size",
			s.opts.Interface, st.KernelDrops))
	}
	st.Files = []string{liveName(s.opts.Interface)}
	if s.opts.Writer != nil {
		if files := s.opts.Writer.Files(); len(files) > 0 {
			st.Files = files
		}
	}
	if n := len(st.Files); n > 1 && len(s.bases) >= n {
		st.Chain, st.FrameBase = make([]int, n), slices.Clone(s.bases[:n])
	}
	return st
}

// updateDrops reads the kernel's counters (PACKET_STATISTICS, which reset
// on each read; afpacket sums them). Called with s.mu held.
func (s *LiveSource) updateDrops() {
	if s.closed {
		return
	}
	if _, v3, err := s.tp.SocketStats(); err == nil {
		s.drops = int64(v3.Drops())
	}
}

// Close releases the socket and its ring. See the type's doc: never while
// Next runs. Stats keeps the counts.
func (s *LiveSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.updateDrops()
	s.closed, s.done = true, true
	s.tp.Close()
	return nil
}
