package reassembly

import (
	"errors"
	"fmt"
)

// Errors a *FileError wraps, for callers that test with errors.Is.
var (
	// ErrNoFiles: OpenFiles was given no path.
	ErrNoFiles = errors.New("reassembly: no capture files given")
	// ErrEmptyFile: the file holds no bytes at all.
	ErrEmptyFile = errors.New("empty file")
	// ErrNotCapture: the file starts with no magic number this package
	// knows.
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	// ErrUnsupportedFormat: the file is a known format other than pcap
	// and pcapng (Network Monitor, ETL, snoop, a compressed archive).
	ErrUnsupportedFormat = errors.New("unsupported capture format")
	// ErrBadHeader: the file starts like pcap or pcapng but its file
	// header is damaged or cut short.
	ErrBadHeader = errors.New("bad capture file header")
)

// FileError is a fatal problem with one capture file: it cannot be opened,
// is not a capture this package reads, or could not be read at all. Damage
// after the file header is never fatal: the source stops reading that file
// and reports it in SourceStats.Warnings.
type FileError struct {
	// Path is the file as given; "-" is standard input.
	Path string
	// Offset is where in the file the problem was found. It counts
	// uncompressed bytes when the file is gzipped.
	Offset int64
	// Err says what is wrong.
	Err error
	// Hint says what to do about it, or is empty.
	Hint string
}

// Error returns one line: path, offset, problem and hint, such as
// "trace.cap: offset 0: a Network Monitor capture, not pcap/pcapng: open it
// in Wireshark and save it as pcapng".
func (e *FileError) Error() string {
	s := fmt.Sprintf("%s: offset %d: %v", displayName(e.Path), e.Offset, e.Err)
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }

// kindError is an error with its own message that still matches one of the
// sentinels above with errors.Is.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// displayName names a path in messages: "stdin" for "-".
func displayName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}
