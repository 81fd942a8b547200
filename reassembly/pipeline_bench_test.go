package reassembly_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// nopHandler counts events and does nothing else, so the benchmark
// measures the packet path alone.
// Its counters are atomic: a sharded run calls it from several workers.
type nopHandler struct{ requests, responses atomic.Int64 }

func (*nopHandler) ConnectionOpened(*reassembly.Conn)                       {}
func (h *nopHandler) Request(*reassembly.Conn, *reassembly.Message)         { h.requests.Add(1) }
func (h *nopHandler) Response(_ *reassembly.Conn, _, _ *reassembly.Message) { h.responses.Add(1) }
func (*nopHandler) ConnectionClosed(*reassembly.Conn)                       {}

// benchCapture writes a pcapng of conns keep-alive HTTP connections, each
// with reqs request/response pairs (4 KB bodies), interleaved in time as
// busy servers see them, and returns its path and packet count.
func benchCapture(b *testing.B, conns, reqs int) (string, int) {
	b.Helper()
	var all capwriter.Packets
	body := strings.Repeat("x", 4096)
	for i := 0; i < conns; i++ {
		c := capwriter.NewConversation(
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(40000+i%20000)),
			netip.MustParseAddrPort("10.0.0.80:80"))
		c.Base = time.Unix(1700000000, 0).Add(time.Duration(i) * time.Millisecond)
		c.Step = 50 * time.Microsecond
		c.Handshake()
		for j := 0; j < reqs; j++ {
			c.Send(capwriter.ToServer, []byte(fmt.Sprintf("GET /item/%d HTTP/1.1\r\nHost: intranet\r\nUser-Agent: bench\r\n\r\n", j)))
			c.Send(capwriter.ToClient, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4096\r\n\r\n"+body))
		}
		c.Close()
		all = append(all, c.Packets()...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	data, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{}, all)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.pcapng")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return path, len(all)
}

// BenchmarkPipeline measures reading, decoding, reassembling and parsing
// HTTP per packet (no analysis).
func BenchmarkPipeline(b *testing.B) { benchPipeline(b, 1) }

// BenchmarkPipelineSharded is BenchmarkPipeline sharded over two workers
// behind the reading goroutine, as --workers 2 runs it.
func BenchmarkPipelineSharded(b *testing.B) { benchPipeline(b, 2) }

// BenchmarkPipelineGzip is BenchmarkPipelineSharded on the capture
// gzipped (bytes/s count the compressed file): what inflating adds.
func BenchmarkPipelineGzip(b *testing.B) {
	path, n := benchCapture(b, 200, 20)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	gz := path + ".gz"
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	benchPipelineFile(b, gz, n, 2)
}

func benchPipeline(b *testing.B, workers int) {
	path, n := benchCapture(b, 200, 20)
	benchPipelineFile(b, path, n, workers)
}

// benchPipelineFile runs the pipeline over path, a benchCapture of n
// packets (plain or gzipped).
func benchPipelineFile(b *testing.B, path string, n, workers int) {
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := reassembly.OpenFiles([]string{path}, nil)
		if err != nil {
			b.Fatal(err)
		}
		h := &nopHandler{}
		if _, err := reassembly.Run(src, h, reassembly.Options{Workers: workers}); err != nil {
			b.Fatal(err)
		}
		src.Close()
		if h.requests.Load() != 200*20 || h.responses.Load() != 200*20 {
			b.Fatalf("got %d requests, %d responses", h.requests.Load(), h.responses.Load())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/packet")
}

// BenchmarkSourceOnly reads and decodes the same capture and does nothing
// else: the floor the pipeline is measured against.
func BenchmarkSourceOnly(b *testing.B) {
	path, n := benchCapture(b, 200, 20)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := reassembly.OpenFiles([]string{path}, nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := src.Next(); err != nil {
				break
			}
		}
		src.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/packet")
}

// BenchmarkPipelineFile runs the pipeline of BenchmarkPipeline over the
// capture named by $NTLMSCOPE_BENCH_CAPTURE (skipped when unset): a real
// mix of connections, far more of them than the generated capture holds,
// which is what the numberer's table and the tracker see in the field.
func BenchmarkPipelineFile(b *testing.B) {
	path := os.Getenv("NTLMSCOPE_BENCH_CAPTURE")
	if path == "" {
		b.Skip("$NTLMSCOPE_BENCH_CAPTURE names no capture")
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			var packets int64
			for b.Loop() {
				src, err := reassembly.OpenFiles([]string{path}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := reassembly.Run(src, &nopHandler{}, reassembly.Options{Workers: workers}); err != nil {
					b.Fatal(err)
				}
				packets = src.Stats().TCP
				src.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*packets), "ns/packet")
		})
	}
}
