package reassembly

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// TestProgress: once a Source of files is read to the end, Progress says
// every byte of every file was read, of a total that is the sum of their
// sizes on disk, and 0 when an input has no size.
func TestProgress(t *testing.T) {
	plain := srcCapture(t, capwriter.PCAPNG, capwriter.Encap{}, srcConversation("10.0.0.1:1", "10.0.0.2:80"))
	other := srcCapture(t, capwriter.PCAP, capwriter.Encap{}, srcConversation("10.0.0.3:1", "10.0.0.2:80"))
	gz := srcGzip(t, plain)
	stdinFile, err := os.Open(srcTempFile(t, "stdin.pcapng", plain))
	if err != nil {
		t.Fatal(err)
	}
	defer stdinFile.Close()

	tests := []struct {
		name      string
		paths     []string
		stdin     io.Reader
		read      int64
		wantTotal int64
	}{
		{"one file", []string{srcTempFile(t, "a.pcapng", plain)}, nil, int64(len(plain)), int64(len(plain))},
		{"gzipped: compressed bytes", []string{srcTempFile(t, "a.pcapng.gz", gz)}, nil, int64(len(gz)), int64(len(gz))},
		{"two files", []string{srcTempFile(t, "a.pcapng", plain), srcTempFile(t, "b.pcap", other)}, nil,
			int64(len(plain) + len(other)), int64(len(plain) + len(other))},
		{"stdin pipe: no total", []string{"-"}, bytes.NewReader(plain), int64(len(plain)), 0},
		{"stdin redirected from a file", []string{"-"}, stdinFile, int64(len(plain)), int64(len(plain))},
		{"a file and a pipe: no total", []string{srcTempFile(t, "b.pcap", other), "-"}, bytes.NewReader(plain),
			int64(len(plain) + len(other)), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := OpenFiles(tc.paths, tc.stdin)
			if err != nil {
				t.Fatal(err)
			}
			pr, ok := src.(ProgressReporter)
			if !ok {
				t.Fatalf("%T does not implement ProgressReporter", src)
			}
			if _, total := pr.Progress(); total != tc.wantTotal {
				t.Errorf("total before reading %d, want %d", total, tc.wantTotal)
			}
			srcDrain(t, src) // closes src: Progress still answers
			if read, total := pr.Progress(); read != tc.read || total != tc.wantTotal {
				t.Errorf("Progress() = %d, %d; want %d, %d", read, total, tc.read, tc.wantTotal)
			}
		})
	}
}

// TestProgressWhileReading: Progress may be called from another goroutine
// while the source is read (run with -race), and never goes back nor past
// the total.
func TestProgressWhileReading(t *testing.T) {
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:80"))
	c.Handshake()
	c.Send(capwriter.ToServer, bytes.Repeat([]byte("x"), 4<<20)) // several read buffers
	c.Close()
	b := srcCapture(t, capwriter.PCAP, capwriter.Encap{}, c.Packets())
	src, err := OpenFiles([]string{srcTempFile(t, "big.pcap", b)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pr := src.(ProgressReporter)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var polls int
	wg.Add(1)
	go func() {
		defer wg.Done()
		var last int64
		for {
			read, total := pr.Progress()
			if read < last || read > total {
				t.Errorf("Progress() = %d, %d after %d", read, total, last)
				return
			}
			last = read
			polls++
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	srcDrain(t, src)
	close(stop)
	wg.Wait()
	if read, total := pr.Progress(); read != int64(len(b)) || total != int64(len(b)) || polls == 0 {
		t.Errorf("after reading: Progress() = %d, %d (polled %d times), want %d, %[4]d", read, total, polls, len(b))
	}
}
