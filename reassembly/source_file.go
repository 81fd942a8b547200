package reassembly

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// readBufSize is the read buffer of a capture. It bounds how far ngGuard
// can look ahead: twice libpcap's largest snaplen (256 KiB), so a packet
// block of any ordinary capture is checked whole.
const readBufSize = 512 << 10

// countingReader counts the bytes read through it. The count is atomic so
// that a progress bar may read it while another goroutine reads the file;
// reads go through a 512 KiB buffer, so the cost is one atomic add per
// buffer fill, not per packet.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// gzipAheadFiles is the most files a run may open for its gzipped ones
// to be inflated ahead of the reader (see inflateAhead), each with 1 MiB
// of chunks: the files of a merge are all open at once, and a ring buffer
// of a hundred gzipped files would hold 100 MiB of chunks. Those of a
// longer run are inflated as they are read.
const gzipAheadFiles = 4

// captureFile reads the records of one capture and decodes them.
type captureFile struct {
	match *pcapfilter.Matcher // -f on files; nil keeps every packet
	path  string
	index int
	// chain and frameBase place the file in a chain of files that follow
	// each other (see mergeSource.begin): its packets' Chain, and the
	// frames their Frame counts on from. begun says Next returned one of
	// its packets.
	chain     int
	frameBase int64
	begun     bool
	// stem is the path without a ring's numbers in its name (nameStem): the
	// files of one ring buffer share it. followed says a file follows on
	// from this one. hold, until the file begins, is the time the merge
	// takes its first packet for: just after the last packet of the file
	// it follows on from, which ends a moment after it begins (endsFirst).
	stem     string
	followed bool
	hold     time.Time
	last     time.Time // the time of the packet Next returned last
	// parked marks a stand-in for a file closed until its turn (see
	// park): it holds only the first packet's time, SYN flag and frame,
	// and the counts so far; done then says the file has no packet.
	parked  bool
	closer  io.Closer       // nil for stdin
	gz      io.Closer       // the decompressor of a gzipped file, else nil
	cnt     *countingReader // under br: bytes of the (uncompressed) stream
	raw     *countingReader // the file's own bytes (compressed when gzipped): progress
	size    int64           // the file's size in bytes, -1 when unknown (a pipe)
	br      *bufio.Reader   // shared with the pcapgo reader, which reads through it
	pcap    *pcapgo.Reader
	ng      *pcapgo.NgReader
	guard   ngGuard
	ifaces  []ngIface   // the NgReader's interfaces, for readFastNg
	secrets secretsScan // TLS: Decryption Secrets Blocks (tls_dsb.go)
	dec     pktDecoder
	pkt     Packet
	frame   int64
	// ahead holds packets read ahead of the merge, copies of their own
	// (readAhead), which next returns before reading on; aheadErr is the
	// error that stopped the reading ahead, returned after them.
	ahead    []Packet
	aheadErr error
	stats    SourceStats
	unknown  map[layers.LinkType]int64 // packets per unhandled link type
	done     bool

	// noFastNg sends every pcapng block through the NgReader (tests
	// compare the two paths).
	noFastNg bool
}

// openCapture reads the file header of a capture from r. A gzipped one is
// inflated ahead of the reader, on a goroutine of its own, when ahead is
// set (see gzipAheadFiles). The error is a *FileError.
func openCapture(path string, index int, r io.Reader, closer io.Closer, ahead bool) (_ *captureFile, err error) {
	f := &captureFile{path: path, stem: nameStem(path), index: index, chain: index, closer: closer, size: fileSize(r)}
	defer func() {
		if err != nil && f.gz != nil {
			f.gz.Close() // stops the goroutine inflating ahead
		}
	}()
	f.dec.stats, f.dec.pkt = &f.stats, &f.pkt
	f.cnt = &countingReader{r: r}
	f.raw = f.cnt
	f.br = bufio.NewReaderSize(f.cnt, readBufSize)
	format, err := f.detect()
	if err != nil {
		return nil, err
	}
	if format == formatGzip {
		// Decompress here rather than let pcapgo do it, so that the
		// guard and the offsets see the capture's own bytes.
		//
		// klauspost's inflate is a third faster than the standard
		// library's; with ahead it runs on a goroutine of its own.
		zr, err := gzip.NewReader(f.br)
		if err != nil {
			return nil, f.headerError("damaged gzip header", err)
		}
		var gz io.ReadCloser = zr
		if ahead {
			gz = newInflateAhead(zr)
		}
		f.gz = gz
		f.cnt = &countingReader{r: gz}
		f.br = bufio.NewReaderSize(f.cnt, readBufSize)
		if format, err = f.detect(); err != nil {
			return nil, err
		}
		if format == formatGzip {
			return nil, &FileError{Path: path, Err: &kindError{msg: "a gzip file inside a gzip file", kind: ErrUnsupportedFormat}, Hint: "decompress it once (gunzip) and open the result"}
		}
	}
	if format == formatPcap {
		if f.pcap, err = pcapgo.NewReader(f.br); err != nil {
			return nil, f.headerError("bad pcap file header", err)
		}
		return f, nil
	}
	head, _ := f.br.Peek(12)
	// Mixed link types: without it the reader drops, silently, packets of
	// interfaces whose link type differs from the first one's, and every
	// frame number after them shifts.
	if f.ng, err = pcapgo.NewNgReader(f.br, pcapgo.NgReaderOptions{WantMixedLinkType: true}); err != nil {
		return nil, f.headerError("bad pcapng section header", err)
	}
	f.guard.order = binary.LittleEndian
	if len(head) == 12 && binary.BigEndian.Uint32(head[8:]) == 0x1a2b3c4d {
		f.guard.order = binary.BigEndian
	}
	f.secrets = secretsScan{keys: NewKeyLog(), order: f.guard.order} // TLS
	return f, nil
}

// detect peeks at the start of the stream and tells its format.
func (f *captureFile) detect() (captureFormat, error) {
	head, err := f.br.Peek(sniffLen)
	if err != nil && err != io.EOF && len(head) == 0 {
		if f.gz != nil && !isPathError(err) {
			return 0, f.headerError("damaged gzip data", err)
		}
		return 0, &FileError{Path: f.path, Err: err, Hint: "check that the file can be read"}
	}
	if len(head) == 0 && f.gz != nil {
		return 0, &FileError{Path: f.path, Err: &kindError{msg: "empty file (after decompression)", kind: ErrEmptyFile}}
	}
	return detectFormat(f.path, head)
}

// headerError is a *FileError for a damaged file header.
func (f *captureFile) headerError(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		what += ": the file ends inside it"
	} else {
		what += ": " + lowerFirst(err.Error())
	}
	return &FileError{Path: f.path, Err: &kindError{msg: what, kind: ErrBadHeader},
		Hint: "the file is damaged or was cut off while being written; check it opens in Wireshark"}
}

// fileSize is the size of the capture r reads when r is a regular file (a
// named file, or stdin redirected from one), else -1: a pipe or a device
// has no size to measure progress against.
func fileSize(r io.Reader) int64 {
	st, ok := r.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return -1
	}
	fi, err := st.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

// offset is the reader's position in the (uncompressed) stream.
func (f *captureFile) offset() int64 {
	return f.cnt.n.Load() - int64(f.br.Buffered())
}

// next returns the file's next TCP packet, or io.EOF when the file ended
// or was stopped. Any other error is a fatal *FileError. Packets read
// ahead (readAhead) come first.
func (f *captureFile) next() (*Packet, error) {
	if len(f.ahead) > 0 {
		f.pkt, f.ahead[0] = f.ahead[0], Packet{}
		f.ahead = f.ahead[1:]
		if len(f.ahead) == 0 {
			f.ahead = nil // drop the array, which holds up to aheadBytes
		}
		return &f.pkt, nil
	}
	if err := f.aheadErr; err != nil {
		f.aheadErr = nil
		return nil, err
	}
	return f.read1()
}

// read1 reads the file's next TCP packet from the file itself.
func (f *captureFile) read1() (*Packet, error) {
	for !f.done {
		start := f.offset()
		data, ci, lt, err := f.read()
		if err == io.EOF && f.pcap != nil && f.offset() != start {
			// io.ReadFull says io.EOF when a pcap file ends right after
			// a record header, before any of the record's data. (A
			// pcapng reader may consume whole blocks before a clean
			// end.)
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, f.stop(start, err)
		}
		f.frame++
		f.stats.Packets++
		f.stats.Bytes += int64(len(data))
		if f.match != nil && !f.match.Match(lt, data) {
			f.stats.Filtered++
			continue
		}
		if t := ci.Timestamp; !t.IsZero() {
			if f.stats.FirstSeen.IsZero() || t.Before(f.stats.FirstSeen) {
				f.stats.FirstSeen = t
			}
			if t.After(f.stats.LastSeen) {
				f.stats.LastSeen = t
			}
		}
		switch f.dec.decode(lt, data, ci.Timestamp) {
		case verdictTCP:
			f.stats.TCP++
			if f.pkt.Truncated {
				f.stats.Truncated++
			}
			f.pkt.File, f.pkt.Chain, f.pkt.Frame, f.pkt.Time = f.index, f.chain, f.frameBase+f.frame, ci.Timestamp
			return &f.pkt, nil
		case verdictNonTCP:
			f.stats.NonTCP++
		case verdictMalformed:
			f.stats.Malformed++
		case verdictUnknownLink:
			f.stats.UnknownLinkType++
			if f.unknown == nil {
				f.unknown = map[layers.LinkType]int64{}
			}
			f.unknown[lt]++
		}
	}
	return nil, io.EOF
}

// read returns the next record and its link type.
func (f *captureFile) read() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	if f.pcap != nil {
		data, ci, err := f.pcap.ZeroCopyReadPacketData()
		return data, ci, f.pcap.LinkType(), err
	}
	if !f.noFastNg {
		if data, ts, lt, ok := f.readFastNg(); ok {
			return data, gopacket.CaptureInfo{Timestamp: ts}, lt, nil
		}
	}
	if err := f.guard.check(f.br); err != nil {
		return nil, gopacket.CaptureInfo{}, 0, err
	}
	f.scanSecrets() // TLS: secrets among the blocks read next
	data, ci, err := f.ng.ZeroCopyReadPacketData()
	f.syncIfaces()
	if err != nil {
		return nil, ci, 0, err
	}
	// Each packet's link type is its interface's; the reader checked the
	// index against its table.
	intf, err := f.ng.Interface(ci.InterfaceIndex)
	return data, ci, intf.LinkType, err
}

// stop ends the file after a read error at offset start: io.EOF, or a
// *FileError when the file could not be read at all. Damage is not fatal:
// it is counted and told in a warning, and what came before it stands.
func (f *captureFile) stop(start int64, err error) error {
	f.done = true
	if err == io.EOF {
		return io.EOF
	}
	if isPathError(err) {
		return &FileError{Path: f.path, Offset: start, Err: err, Hint: "check that the file can be read"}
	}
	where := fmt.Sprintf("offset %d", start)
	var nc *ngCorrupt
	if errors.As(err, &nc) {
		where = fmt.Sprintf("offset %d", start+int64(nc.off))
	}
	if f.gz != nil {
		where += " of the uncompressed data"
	}
	f.stats.CorruptRecords++
	before := fmt.Sprintf("the %d packets before it were analysed", f.frame)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || nc != nil && nc.truncated:
		f.warnf("truncated at %s (the file was cut off; %s)", where, before)
	case errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, new(flate.CorruptInputError)):
		f.warnf("damaged gzip data at %s (%v); %s", where, err, before)
	default:
		f.warnf("damaged record at %s (%s); reading stopped there, %s", where, lowerFirst(err.Error()), before)
	}
	return io.EOF
}

// isPathError reports whether err is the operating system failing to read
// the file, rather than damage in it.
func isPathError(err error) bool {
	var pathErr *fs.PathError
	return errors.As(err, &pathErr)
}

// warnf adds a warning about this file.
func (f *captureFile) warnf(format string, args ...any) {
	f.stats.Warnings = append(f.stats.Warnings, displayName(f.path)+": "+fmt.Sprintf(format, args...))
}

// statsNow returns the file's counts, with a warning per link type it
// could not decode.
func (f *captureFile) statsNow() SourceStats {
	s := f.stats
	s.Warnings = slices.Clone(f.stats.Warnings)
	s.Warnings = append(s.Warnings, f.secretsWarnings()...) // TLS
	if f.match != nil {
		for _, w := range f.match.Warnings() {
			s.Warnings = append(s.Warnings, displayName(f.path)+": "+w)
		}
	}
	for _, lt := range slices.Sorted(maps.Keys(f.unknown)) {
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"%s: %d packets on link type %v (%d) were skipped: ntlmscope decodes Ethernet, Linux cooked (SLL, SLL2), BSD loopback and raw IP",
			displayName(f.path), f.unknown[lt], lt, uint16(lt)))
	}
	return s
}

// close releases the file (and stops the decompressing goroutine of a
// gzipped one).
func (f *captureFile) close() error {
	if f.gz != nil {
		f.gz.Close()
	}
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// lowerFirst lower-cases the first letter of s: gopacket's messages start
// with a capital, ours do not.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
