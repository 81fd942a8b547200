package reassembly

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// etlHead returns the start of an ETL file: a WMI_BUFFER_HEADER and the
// SYSTEM_TRACE_HEADER of the first event.
func etlHead() []byte {
	b := make([]byte, 0x200)
	binary.LittleEndian.PutUint32(b[0:], 64<<10) // BufferSize
	binary.LittleEndian.PutUint32(b[4:], 0x1f8)  // SavedOffset
	binary.LittleEndian.PutUint32(b[8:], 0x1f8)  // CurrentOffset
	binary.LittleEndian.PutUint16(b[0x48:], 2)   // Version
	b[0x4a], b[0x4b] = 2, 0xc0                   // SYSTEM64, TRACE_HEADER_FLAG|EVENT_TRACE
	return b
}

// TestOpenErrors checks that unreadable inputs fail with a *FileError that
// names the file and offset and says what to do.
func TestOpenErrors(t *testing.T) {
	pcap := srcCapture(t, capwriter.PCAP, capwriter.Encap{}, srcConversation("10.0.0.1:1", "10.0.0.2:80"))
	pcapng := srcCapture(t, capwriter.PCAPNG, capwriter.Encap{}, srcConversation("10.0.0.1:1", "10.0.0.2:80"))
	badVersion := bytes.Clone(pcap)
	badVersion[4] = 9
	tests := []struct {
		name, file string
		data       []byte
		kind       error
		want       []string // substrings of the message
	}{
		{"empty", "x.pcap", nil, ErrEmptyFile, []string{"x.pcap: offset 0: empty file"}},
		{"netmon 2", "trace.cap", []byte("GMBU\x00\x02\x00\x00rest"), ErrUnsupportedFormat,
			[]string{"trace.cap: offset 0: a Network Monitor capture, not pcap/pcapng: open it in Wireshark and save it as pcapng"}},
		{"netmon 1", "old.cap", []byte("RTSS\x00\x01rest"), ErrUnsupportedFormat, []string{"Network Monitor 1.x", "editcap"}},
		{"etl by header", "trace.bin", etlHead(), ErrUnsupportedFormat, []string{"ETL", "etl2pcapng in.etl out.pcapng"}},
		{"etl by name", "NetTrace.ETL", []byte("\x01\x02\x03\x04 unknown"), ErrUnsupportedFormat, []string{"ETL", "etl2pcapng"}},
		{"nstrace 1.0", "nstrace1.cap", []byte("\x01\x01\x34\x00\x01\x00\x00\x00NetScaler Performance Data\x00\x00"),
			ErrUnsupportedFormat, []string{"NetScaler", "editcap", "-traceformat PCAP"}},
		{"nstrace 3.0", "nstrace1.cap", []byte("\x30\x20Netscaler V30 Performance Data\x00\x00"), ErrUnsupportedFormat,
			[]string{"NetScaler (ADC) nstrace"}},
		{"snoop", "x.snoop", []byte("snoop\x00\x00\x00\x00\x00\x00\x02"), ErrUnsupportedFormat, []string{"snoop", "editcap"}},
		{"zstd", "x.pcapng.zst", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, ErrUnsupportedFormat, []string{"zstd", "zstd -d"}},
		{"unknown", "notes.txt", []byte("hello, world"), ErrNotCapture, []string{"not a pcap or pcapng file (magic 68 65 6c 6c)"}},
		{"tiny", "x", []byte{1, 2}, ErrNotCapture, []string{"only 2 bytes"}},
		{"pcap header cut", "x.pcap", pcap[:10], ErrBadHeader, []string{"bad pcap file header: the file ends inside it"}},
		{"pcap bad version", "x.pcap", badVersion, ErrBadHeader, []string{"unknown major version 9"}},
		{"pcapng header cut", "x.pcapng", pcapng[:20], ErrBadHeader, []string{"bad pcapng section header"}},
		{"gzip header cut", "x.pcap.gz", []byte{0x1f, 0x8b, 8}, ErrBadHeader, []string{"damaged gzip header"}},
		{"gzip of text", "x.gz", srcGzip(t, []byte("just text here")), ErrNotCapture, []string{"magic 6a 75 73 74"}},
		{"gzip of nothing", "x.gz", srcGzip(t, nil), ErrEmptyFile, []string{"after decompression"}},
		{"gzip of netmon", "x.cap.gz", srcGzip(t, []byte("GMBUxxxx")), ErrUnsupportedFormat, []string{"Network Monitor"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := srcTempFile(t, tc.file, tc.data)
			_, err := OpenFiles([]string{path}, nil)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FileError", err)
			}
			if fe.Path != path || !errors.Is(err, tc.kind) {
				t.Errorf("path %q, error %v; want %q, kind %v", fe.Path, err, path, tc.kind)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message on several lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestOpenFilesArguments(t *testing.T) {
	if _, err := OpenFiles(nil, nil); !errors.Is(err, ErrNoFiles) {
		t.Errorf("no files: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pcap")
	_, err := OpenFiles([]string{missing}, nil)
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, os.ErrNotExist) || fe.Hint == "" {
		t.Errorf("missing file: %v", err)
	}
	capture := srcCapture(t, capwriter.PCAP, capwriter.Encap{}, srcConversation("10.0.0.1:1", "10.0.0.2:80"))
	if _, err := OpenFiles([]string{"-", "-"}, bytes.NewReader(capture)); !errors.As(err, &fe) || fe.Path != "-" || !strings.HasPrefix(err.Error(), "stdin: ") {
		t.Errorf("stdin twice: %v", err)
	}
	if _, err := OpenFiles([]string{"-"}, nil); !errors.As(err, &fe) {
		t.Errorf("stdin without a reader: %v", err)
	}
	// A bad second file closes the first and fails the whole call.
	good := srcTempFile(t, "good.pcap", capture)
	if _, err := OpenFiles([]string{good, missing}, nil); !errors.As(err, &fe) || fe.Path != missing {
		t.Errorf("second file missing: %v", err)
	}
}
