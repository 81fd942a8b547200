package reassembly

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// srcBenchFrame returns an Ethernet/IPv4/TCP frame with 200 bytes of
// payload and a timestamp option-free header.
func srcBenchFrame(tb testing.TB) []byte {
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80"))
	c.Send(capwriter.ToServer, bytes.Repeat([]byte("x"), 200))
	fs, err := capwriter.Encap{}.Frames(c.Packets()[0])
	if err != nil {
		tb.Fatal(err)
	}
	return fs[0]
}

// BenchmarkDecode decodes one Ethernet/IPv4/TCP frame: the per-packet cost
// of the decoder alone.
func BenchmarkDecode(b *testing.B) {
	frame := srcBenchFrame(b)
	var st SourceStats
	var p Packet
	d := pktDecoder{stats: &st, pkt: &p}
	ts := time.Now()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if d.decode(layers.LinkTypeEthernet, frame, ts) != verdictTCP {
			b.Fatal("not TCP")
		}
	}
}

// srcBenchCapture returns a capture of n Ethernet/IPv4/TCP packets.
func srcBenchCapture(tb testing.TB, f capwriter.Format, n int) []byte {
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80"))
	c.MSS = 200
	c.Send(capwriter.ToServer, bytes.Repeat([]byte("x"), 200*n))
	return srcCapture(tb, f, capwriter.Encap{}, c.Packets())
}

// BenchmarkSource reads a 10 000-packet capture from memory through
// OpenFiles: file reading, decoding and merging together. ns/pkt is the
// cost per packet.
func BenchmarkSource(b *testing.B) {
	const n = 10000
	for _, f := range []struct {
		name string
		f    capwriter.Format
	}{{"pcap", capwriter.PCAP}, {"pcapng", capwriter.PCAPNG}} {
		b.Run(f.name, func(b *testing.B) {
			capture := srcBenchCapture(b, f.f, n)
			b.SetBytes(int64(len(capture)))
			b.ReportAllocs()
			for b.Loop() {
				src, err := OpenFiles([]string{"-"}, bytes.NewReader(capture))
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := src.Next(); err != nil {
						break
					}
				}
				if src.Stats().TCP != n {
					b.Fatal("packets lost")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pkt")
		})
	}
}

// TestSourceSteadyStateAllocs: once warmed up, reading plain Ethernet/IPv4/
// TCP packets allocates nothing, from pcap and from pcapng.
func TestSourceSteadyStateAllocs(t *testing.T) {
	for _, f := range []capwriter.Format{capwriter.PCAP, capwriter.PCAPNG} {
		src := srcOpenBytes(t, srcBenchCapture(t, f, 3000))
		for range 100 {
			if _, err := src.Next(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(2000, func() {
			if _, err := src.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("format %d: %.2f allocations per packet", f, allocs)
		}
		src.Close()
	}
}
