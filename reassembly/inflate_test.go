package reassembly

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// scriptedReader returns its reads in order: each its bytes and error.
type scriptedReader struct {
	reads []inflated
}

func (s *scriptedReader) Read(p []byte) (int, error) {
	if len(s.reads) == 0 {
		return 0, io.EOF
	}
	r := s.reads[0]
	s.reads = s.reads[1:]
	return copy(p, r.b), r.err
}

// TestInflateAheadOrder: every byte of a read comes before the error that
// came with it, reads of no bytes are skipped, and the error stays.
func TestInflateAheadOrder(t *testing.T) {
	damage := errors.New("damaged")
	a := newInflateAhead(&scriptedReader{reads: []inflated{
		{b: []byte("abc")}, {}, {b: []byte("defg"), err: damage},
	}})
	defer a.Close()
	got, err := io.ReadAll(a)
	if string(got) != "abcdefg" || err != damage {
		t.Errorf("read %q, %v; want abcdefg, then %v", got, err, damage)
	}
	if n, err := a.Read(make([]byte, 8)); n != 0 || err != damage {
		t.Errorf("read after the error: %d, %v", n, err)
	}
}

// blockingReader blocks every read until released.
type blockingReader struct{ release chan struct{} }

func (b blockingReader) Read([]byte) (int, error) {
	<-b.release
	return 0, io.EOF
}

// TestInflateAheadCloseDoesNotWait: Close returns while a read is in
// flight, and the goroutine ends once that read does.
func TestInflateAheadCloseDoesNotWait(t *testing.T) {
	before := inflaters()
	r := blockingReader{release: make(chan struct{})}
	a := newInflateAhead(r)
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the read in flight")
	}
	close(r.release)
	waitInflaters(t, before)
}

// inflaters counts the goroutines inflating ahead (inflateAhead.run), not
// every goroutine: other tests' goroutines come and go meanwhile.
func inflaters() int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "(*inflateAhead).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitInflaters waits up to 10 s for the goroutines inflating ahead to
// fall back to n.
func waitInflaters(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for inflaters() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines inflating ahead, want %d: one was left running", inflaters(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// storedGzip gzips b in stored (uncompressed) deflate blocks and returns
// it with the NLEN of its second block damaged: inflating fails after the
// first block's 65,535 bytes, which come out first.
func storedGzip(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	gz := buf.Bytes()
	// 10 bytes of gzip header, then blocks of a header byte, LEN, NLEN
	// and 65,535 bytes.
	const second = 10 + 5 + 65535
	if len(gz) < second+5 || gz[second+1] != 0xff || gz[second+2] != 0xff || gz[second+3] != 0 || gz[second+4] != 0 {
		t.Fatalf("the writer did not store a second 65,535-byte block at offset %d", second)
	}
	gz[second+3] ^= 0x01
	return gz
}

// TestGzipDamageAfterFirstBlock: damage to the deflate stream keeps the
// packets inflated before it, whether the file is inflated ahead (alone)
// or as it is read (one of more than gzipAheadFiles), even when it falls
// within the first chunks read: such a capture opens and says where the
// damage is.
func TestGzipDamageAfterFirstBlock(t *testing.T) {
	var ps capwriter.Packets
	for i := range 400 { // some 300 KB, several stored blocks
		ps = append(ps, srcConversation(fmt.Sprintf("10.0.%d.%d:1000", i/250, i%250+1), "10.0.0.2:80")...)
	}
	plain := srcCapture(t, capwriter.PCAP, capwriter.Encap{}, ps)
	gz := storedGzip(t, plain)

	got, st := srcDrain(t, srcOpenBytes(t, gz))
	_, one, _ := strings.Cut(strings.Join(st.Warnings, "\n"), ": ")
	if len(got) == 0 || len(got) >= len(ps) || st.CorruptRecords != 1 ||
		!strings.Contains(one, "damaged gzip data at offset") {
		t.Fatalf("alone: %d of %d packets, warnings %q", len(got), len(ps), st.Warnings)
	}
	var paths []string
	for i := range gzipAheadFiles + 1 {
		paths = append(paths, srcTempFile(t, fmt.Sprintf("stored-%d.pcap.gz", i), gz))
	}
	src, err := OpenFiles(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	merged, mst := srcDrain(t, src)
	src.Close()
	if len(merged) != len(got)*len(paths) {
		t.Errorf("in %d files: %d packets, want %d", len(paths), len(merged), len(got)*len(paths))
	}
	for _, w := range mst.Warnings {
		if _, w, _ = strings.Cut(w, ": "); w != one {
			t.Errorf("in %d files: warning %q, want %q as alone", len(paths), w, one)
		}
	}
}

// TestGzipOpenErrorStopsInflating: a gzipped file that turns out not to
// be a capture leaves no goroutine behind.
func TestGzipOpenErrorStopsInflating(t *testing.T) {
	before := inflaters()
	zeros := srcGzip(t, make([]byte, 8<<20))
	for range 3 {
		if _, err := OpenFiles([]string{"-"}, bytes.NewReader(zeros)); err == nil {
			t.Fatal("8 MiB of zeros opened as a capture")
		}
	}
	waitInflaters(t, before)
}

// TestGzipPipeNotHeldBack: a gzipped capture on a pipe that stays open
// gives every packet flushed so far, not only once a chunk is full.
func TestGzipPipeNotHeldBack(t *testing.T) {
	ps := srcConversation("10.0.0.1:1000", "10.0.0.2:80")
	pr, pw := io.Pipe()
	zw := gzip.NewWriter(pw)
	go func() {
		zw.Write(srcCapture(t, capwriter.PCAP, capwriter.Encap{}, ps))
		zw.Flush() // and the pipe stays open
	}()
	read := make(chan int)
	go func() {
		src, err := OpenFiles([]string{"-"}, pr)
		if err != nil {
			t.Error(err)
			close(read)
			return
		}
		for n := 1; ; n++ {
			if _, err := src.Next(); err != nil {
				break
			}
			read <- n
		}
		close(read)
	}()
	timeout := time.After(10 * time.Second)
	for n := 0; n < len(ps); {
		select {
		case n = <-read:
		case <-timeout:
			t.Fatalf("%d of the %d packets flushed came through", n, len(ps))
		}
	}
	pw.Close()
	for range read {
	}
}
