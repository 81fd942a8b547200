package reassembly

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// PcapngOptions configure CreatePcapng.
type PcapngOptions struct {
	// Path is the file to write. With RotateSize, files are numbered:
	// trace.pcapng becomes trace_00001.pcapng, trace_00002.pcapng... (in
	// order by name, as dumpcap's ring buffer), so that `ntlmscope
	// analyze trace_*.pcapng` reads them all.
	Path string
	// RotateSize starts a new file once the current one holds this many
	// bytes (and a packet at least); 0 writes one file.
	RotateSize int64
	// RotateCount keeps at most this many files, deleting the oldest as
	// a new one starts; 0 keeps them all.
	RotateCount int
	// Filter is recorded in each interface block (if_filter), so the
	// file says what was left out.
	Filter string
	// Snaplen is recorded in each interface block.
	Snaplen int
	// Interface is the capture's interface (or "any"): the first
	// interface block of every file. Under "any", each packet's own
	// interface gets a block of its own, so Wireshark shows where each
	// packet was seen.
	Interface LiveInterface
}

// PcapngWriter saves a live capture as pcapng: a FrameWriter. Files are
// created readable by their owner only: they hold NTLM responses, which
// can be cracked offline. Not safe for concurrent use.
//
// Layout of each file: a section header block, an interface description
// block per capture interface (added as interfaces first appear), an
// enhanced packet block per packet (nanosecond timestamps), and at Close
// an interface statistics block with the kernel's drop count.
type PcapngWriter struct {
	opts   PcapngOptions
	files  []string
	f      *os.File
	bw     *bufio.Writer
	cnt    countingWriter
	ng     *pcapgo.NgWriter
	ifaces map[int]int // capture interface index → interface block id in the current file
	inFile int         // packets in the current file
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// CreatePcapng creates the first file. The error is the *os.PathError of
// a file that cannot be created.
func CreatePcapng(opts PcapngOptions) (*PcapngWriter, error) {
	w := &PcapngWriter{opts: opts}
	if err := w.rotate(); err != nil {
		return nil, err
	}
	return w, nil
}

// fileName returns the name of the n-th file (1-based).
func (w *PcapngWriter) fileName(n int) string {
	if w.opts.RotateSize <= 0 {
		return w.opts.Path
	}
	ext := filepath.Ext(w.opts.Path)
	return fmt.Sprintf("%s_%05d%s", strings.TrimSuffix(w.opts.Path, ext), n, ext)
}

// rotate closes the current file, if any, and starts the next one.
func (w *PcapngWriter) rotate() error {
	if w.f != nil {
		if err := w.closeFile(); err != nil {
			return err
		}
	}
	name := w.fileName(len(w.files) + 1)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w.f, w.files = f, append(w.files, name)
	w.bw = bufio.NewWriterSize(f, 256<<10)
	w.cnt = countingWriter{w: w.bw}
	w.ifaces, w.inFile = map[int]int{}, 0
	w.ng, err = pcapgo.NewNgWriterInterface(&w.cnt, w.idb(w.opts.Interface), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "ntlmscope capture"},
	})
	if err != nil {
		return err
	}
	w.ifaces[w.opts.Interface.Index] = 0
	if n := w.opts.RotateCount; n > 0 && len(w.files) > n {
		old := w.files[len(w.files)-n-1]
		if err := os.Remove(old); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// idb describes a capture interface for an interface block.
func (w *PcapngWriter) idb(li LiveInterface) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:       li.Name,
		Filter:     w.opts.Filter,
		OS:         runtime.GOOS,
		LinkType:   li.LinkType,
		SnapLength: uint32(max(w.opts.Snaplen, 0)),
	}
}

// WriteFrame implements FrameWriter.
func (w *PcapngWriter) WriteFrame(f *Frame) (int, error) {
	if w.opts.RotateSize > 0 {
		// pcapgo's writer buffers 4 KiB of its own: flushed into ours,
		// the count is exact.
		if err := w.ng.Flush(); err != nil {
			return 0, err
		}
		if w.cnt.n >= w.opts.RotateSize && w.inFile > 0 {
			if err := w.rotate(); err != nil {
				return 0, err
			}
		}
	}
	id, ok := w.ifaces[f.Interface.Index]
	if !ok {
		li := f.Interface
		li.LinkType = f.LinkType
		var err error
		if id, err = w.ng.AddInterface(w.idb(li)); err != nil {
			return 0, err
		}
		w.ifaces[f.Interface.Index] = id
	}
	ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: max(f.Length, len(f.Data)), InterfaceIndex: id}
	if err := w.ng.WritePacket(ci, f.Data); err != nil {
		return 0, err
	}
	w.inFile++
	return len(w.files) - 1, nil
}

// Files implements FrameWriter: every file started, deleted ones too (a
// report's file indexes refer to this list).
func (w *PcapngWriter) Files() []string { return append([]string(nil), w.files...) }

// Flush writes what is buffered to the file, so that a capture killed
// without warning loses little.
func (w *PcapngWriter) Flush() error {
	if err := w.ng.Flush(); err != nil {
		return err
	}
	return w.bw.Flush()
}

// Close writes the capture's packet and drop counts (from the source's
// final Stats) in an interface statistics block, flushes and closes the
// file.
func (w *PcapngWriter) Close(st SourceStats) error {
	if w.f == nil {
		return nil
	}
	err := w.ng.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
		LastUpdate:      st.LastSeen,
		StartTime:       st.FirstSeen,
		EndTime:         st.LastSeen,
		PacketsReceived: uint64(st.Packets),
		PacketsDropped:  uint64(st.KernelDrops),
	})
	if cerr := w.closeFile(); err == nil {
		err = cerr
	}
	return err
}

// closeFile flushes and closes the current file.
func (w *PcapngWriter) closeFile() error {
	err := w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}
