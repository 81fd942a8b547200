package reassembly

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
)

// captureFormat is a file format told by its first bytes.
type captureFormat uint8

const (
	formatPcap captureFormat = iota + 1
	formatPcapNG
	formatGzip
)

// sniffLen is how many leading bytes detectFormat may look at: the ETL
// heuristic reads the first event's header at offset 0x48.
const sniffLen = 0x4c

// Magic numbers, as the bytes appear at the start of the file.
var (
	pcapMagics = [][]byte{
		{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, // microseconds, LE and BE
		{0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}, // nanoseconds, LE and BE
	}
	pcapNGMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a} // section header block type
	gzipMagic   = []byte{0x1f, 0x8b}
)

// foreignFormats are formats recognised only to say how to convert them.
var foreignFormats = []struct {
	magic      string
	what, hint string
}{
	{"GMBU", "a Network Monitor capture, not pcap/pcapng", netmonHint},
	{"RTSS", "a Network Monitor 1.x capture, not pcap/pcapng", netmonHint},
	{"snoop\x00\x00\x00", "a Solaris snoop capture, not pcap/pcapng", "convert it with `editcap -F pcapng in.snoop out.pcapng`"},
	{"\x34\xcd\xb2\xa1", "a modified (Kuznetzov) pcap capture", "convert it with `editcap -F pcapng in.pcap out.pcapng`"},
	{"\xa1\xb2\xcd\x34", "a modified (Kuznetzov) pcap capture", "convert it with `editcap -F pcapng in.pcap out.pcapng`"},
	{"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it first (zstd -d)"},
	{"\x04\x22\x4d\x18", "an lz4-compressed file", "decompress it first (lz4 -d)"},
	{"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first (xz -d)"},
	{"BZh", "a bzip2-compressed file", "decompress it first (bunzip2)"},
	{"PK\x03\x04", "a zip archive", "extract the capture from it first"},
}

const (
	nstraceWhat = "a Citrix NetScaler (ADC) nstrace capture, not pcap/pcapng"
	nstraceHint = "open it in Wireshark and save it as pcapng, or convert it with `editcap -F pcapng in.cap out.pcapng`; " +
		"on the NetScaler, `start nstrace -traceformat PCAP` writes pcap"
	netmonHint = "open it in Wireshark and save it as pcapng, or convert it with `editcap -F pcapng in.cap out.pcapng`"
	etlWhat    = "a Windows ETL trace (pktmon, netsh trace), not pcap/pcapng"
	etlHint    = "convert it with `etl2pcapng in.etl out.pcapng` (or `pktmon etl2pcap in.etl --out out.pcapng`)"
)

// detectFormat tells the format of a file from its first bytes, never from
// its name, except that an unknown magic in a file named *.etl is taken
// for ETL. The error is a *FileError for unknown, foreign and empty files.
func detectFormat(path string, head []byte) (captureFormat, error) {
	fail := func(kind error, what, hint string) (captureFormat, error) {
		return 0, &FileError{Path: path, Err: &kindError{msg: what, kind: kind}, Hint: hint}
	}
	switch {
	case len(head) == 0:
		return fail(ErrEmptyFile, "empty file", "the capture was not written; check the capture command")
	case bytes.HasPrefix(head, gzipMagic):
		return formatGzip, nil
	case bytes.HasPrefix(head, pcapNGMagic):
		return formatPcapNG, nil
	}
	for _, m := range pcapMagics {
		if bytes.HasPrefix(head, m) {
			return formatPcap, nil
		}
	}
	for _, f := range foreignFormats {
		if bytes.HasPrefix(head, []byte(f.magic)) {
			return fail(ErrUnsupportedFormat, f.what, f.hint)
		}
	}
	if looksLikeETL(head) || strings.EqualFold(filepath.Ext(path), ".etl") {
		return fail(ErrUnsupportedFormat, etlWhat, etlHint)
	}
	if looksLikeNstrace(head) {
		return fail(ErrUnsupportedFormat, nstraceWhat, nstraceHint)
	}
	if len(head) < 4 {
		return fail(ErrNotCapture, fmt.Sprintf("not a pcap or pcapng file (only %d bytes)", len(head)), "")
	}
	return fail(ErrNotCapture,
		fmt.Sprintf("not a pcap or pcapng file (magic %02x %02x %02x %02x)", head[0], head[1], head[2], head[3]),
		"ntlmscope reads pcap and pcapng, plain or gzipped, as written by tcpdump -w or Wireshark")
}

// looksLikeETL reports whether head starts like an ETW trace file. Such a
// file is a sequence of buffers, each opening with a WMI_BUFFER_HEADER
// (0x48 bytes, little-endian); the first event of the first buffer is the
// trace's logfile header, written with a SYSTEM_TRACE_HEADER:
//
//	0x00 BufferSize     u32  a multiple of 1 KiB (64 KiB in practice)
//	0x04 SavedOffset    u32  bytes used, <= BufferSize
//	0x08 CurrentOffset  u32  <= BufferSize
//	...
//	0x48 Version        u16  first event: SYSTEM_TRACE_HEADER
//	0x4a HeaderType     u8   1 (SYSTEM32) or 2 (SYSTEM64)
//	0x4b Flags          u8   TRACE_HEADER_FLAG|TRACE_HEADER_EVENT_TRACE (0xc0)
//
// ETL has no magic number, so this is a heuristic; it only picks the hint
// for a file that is unreadable either way.
func looksLikeETL(head []byte) bool {
	if len(head) < sniffLen {
		return false
	}
	size := binary.LittleEndian.Uint32(head[0:])
	saved := binary.LittleEndian.Uint32(head[4:])
	current := binary.LittleEndian.Uint32(head[8:])
	return size >= 4096 && size <= 64<<20 && size%1024 == 0 &&
		saved >= 0x48 && saved <= size && current <= size &&
		(head[0x4a] == 1 || head[0x4a] == 2) && head[0x4b]&0xc0 == 0xc0
}

// looksLikeNstrace reports whether head starts like a NetScaler trace
// (nstrace, .cap), the balancer's own format: it opens with a signature
// record whose text is "NetScaler Performance Data" (version 1.0) or
// "NetScaler V20 Performance Data" and its successors (the case of the s
// varies), a few bytes in.
func looksLikeNstrace(head []byte) bool {
	h := bytes.ToLower(head)
	i := bytes.Index(h, []byte("netscaler"))
	return i >= 0 && i <= 16 && bytes.Contains(h[i:], []byte("performance data"))
}
