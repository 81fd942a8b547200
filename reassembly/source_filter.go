package reassembly

import (
	"io"

	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
)

// FileOptions tune how capture files are read.
type FileOptions struct {
	// NewMatcher, when set, returns a packet filter for one file (a Matcher
	// is not safe for concurrent use, so each file gets its own): records
	// it rejects are skipped after being counted as frames, so frame
	// numbers stay Wireshark's, and counted in SourceStats.Filtered.
	NewMatcher func() *pcapfilter.Matcher
}

// OpenFilesWith is OpenFiles with options.
func OpenFilesWith(paths []string, stdin io.Reader, opts FileOptions) (Source, error) {
	m, err := openMerge(paths, stdin, opts)
	if err != nil {
		return nil, err
	}
	return m, nil
}
