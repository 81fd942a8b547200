package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// result is what one read found.
type result struct {
	File string `json:"file"`
	// Packets counts every record; TCPPackets those decoded down to TCP,
	// Undecoded those whose Ethernet or IP header failed to decode (a
	// record that is not TCP, such as UDP, is neither).
	Packets    int64 `json:"packets"`
	TCPPackets int64 `json:"tcp_packets"`
	Undecoded  int64 `json:"undecoded"`
	// Bytes is the size of the file read; PacketBytes the captured bytes.
	Bytes       int64   `json:"bytes"`
	PacketBytes int64   `json:"packet_bytes"`
	Seconds     float64 `json:"seconds"`
	PacketsPerS float64 `json:"packets_per_second"`
	MBPerS      float64 `json:"mb_per_second"`
}

// packetReader is what pcapgo's pcap and pcapng readers have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// pcapngMagic is the block type of a pcapng Section Header Block.
const pcapngMagic = "\x0a\x0d\x0d\x0a"

// readAll reads every packet of the capture in r, decoding each as the
// issue's raw read loop does, and counts them into res.
func readAll(r io.Reader, res *result) error {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 1<<20)
	magic, err := br.Peek(4)
	if err != nil {
		return fmt.Errorf("not a capture: %w", err)
	}
	var pr packetReader
	if string(magic) == pcapngMagic {
		pr, err = pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
	} else {
		pr, err = pcapgo.NewReader(br)
	}
	if err != nil {
		return err
	}
	if pr.LinkType() != layers.LinkTypeEthernet {
		return fmt.Errorf("link type %v: the raw loop decodes Ethernet only", pr.LinkType())
	}
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		decoded = make([]gopacket.LayerType, 0, 4)
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp)
	// Stop quietly at the first layer without a decoder (TCP payload,
	// UDP): decoding it is not the loop's job.
	parser.IgnoreUnsupported = true
	for {
		data, _, err := pr.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// A capture cut short (a capture tool killed mid-write)
			// ends the loop like a complete one.
			break
		}
		if err != nil {
			return fmt.Errorf("packet %d: %w", res.Packets+1, err)
		}
		res.Packets++
		res.PacketBytes += int64(len(data))
		if err := parser.DecodeLayers(data, &decoded); err != nil {
			res.Undecoded++
			continue
		}
		if n := len(decoded); n > 0 && decoded[n-1] == layers.LayerTypeTCP {
			res.TCPPackets++
		}
	}
	res.Bytes = cr.n
	return nil
}
