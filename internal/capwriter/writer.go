package capwriter

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Format is a capture file format.
type Format uint8

// Formats a Writer writes.
const (
	PCAP     Format = iota // libpcap, microsecond timestamps, little-endian
	PCAPNano               // libpcap, nanosecond timestamps
	PCAPNG                 // pcapng: one interface per link type written
)

// maxSnaplen is the snap length written when Writer.Snaplen is zero.
const maxSnaplen = 262144

// Writer writes records to a capture. A pcap file holds one link type, so
// all frames written to it must share one; a pcapng file gets an interface
// per link type, in the order they first appear. Call Flush at the end.
type Writer struct {
	// Snaplen, when positive, cuts every record to this many bytes, as
	// tcpdump -s does, and is the snap length the file declares. Set it
	// before the first write.
	Snaplen int

	out    io.Writer
	format Format
	pcap   *pcapgo.Writer
	link   layers.LinkType // the pcap file's link type
	ng     *pcapgo.NgWriter
	ifaces map[layers.LinkType]int
}

// NewWriter returns a Writer that writes a capture of format f to out.
func NewWriter(out io.Writer, f Format) *Writer {
	return &Writer{out: out, format: f, ifaces: map[layers.LinkType]int{}}
}

// WritePackets frames every packet with e and writes the records.
func (w *Writer) WritePackets(e Encap, ps []Packet) error {
	for _, p := range ps {
		frames, err := e.Frames(p)
		if err != nil {
			return err
		}
		for _, f := range frames {
			if err := w.WriteFrame(e.LinkType(), p.Time, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// snaplen returns the snap length the file declares.
func (w *Writer) snaplen() uint32 {
	if w.Snaplen > 0 {
		return uint32(w.Snaplen)
	}
	return maxSnaplen
}

// WriteFrame writes one record holding frame, a packet of link type lt,
// cut to Snaplen.
func (w *Writer) WriteFrame(lt layers.LinkType, t time.Time, frame []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: t, Length: len(frame), CaptureLength: len(frame)}
	if w.Snaplen > 0 && len(frame) > w.Snaplen {
		frame = frame[:w.Snaplen]
		ci.CaptureLength = w.Snaplen
	}
	if w.format == PCAPNG {
		id, err := w.iface(lt)
		if err != nil {
			return err
		}
		ci.InterfaceIndex = id
		return w.ng.WritePacket(ci, frame)
	}
	if w.pcap == nil {
		if w.format == PCAPNano {
			w.pcap = pcapgo.NewWriterNanos(w.out)
		} else {
			w.pcap = pcapgo.NewWriter(w.out)
		}
		w.link = lt
		if err := w.pcap.WriteFileHeader(w.snaplen(), lt); err != nil {
			return err
		}
	}
	if lt != w.link {
		return fmt.Errorf("capwriter: link type %v in a pcap file of %v", lt, w.link)
	}
	return w.pcap.WritePacket(ci, frame)
}

// iface returns the pcapng interface for lt, adding it on first use.
func (w *Writer) iface(lt layers.LinkType) (int, error) {
	if id, ok := w.ifaces[lt]; ok {
		return id, nil
	}
	intf := pcapgo.NgInterface{
		Name:                fmt.Sprintf("if%d", len(w.ifaces)),
		LinkType:            lt,
		SnapLength:          w.snaplen(),
		TimestampResolution: 9,
	}
	var id int
	var err error
	if w.ng == nil {
		w.ng, err = pcapgo.NewNgWriterInterface(w.out, intf, pcapgo.NgWriterOptions{
			SectionInfo: pcapgo.NgSectionInfo{Application: "ntlmscope capwriter"},
		})
	} else {
		id, err = w.ng.AddInterface(intf)
	}
	if err != nil {
		return 0, err
	}
	w.ifaces[lt] = id
	return id, nil
}

// Flush writes out anything buffered.
func (w *Writer) Flush() error {
	if w.ng != nil {
		return w.ng.Flush()
	}
	return nil
}

// Bytes returns a capture of format f holding ps framed with e.
func Bytes(f Format, e Encap, ps []Packet) ([]byte, error) {
	var buf bytes.Buffer
	w := NewWriter(&buf, f)
	if err := w.WritePackets(e, ps); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
