package report

import (
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// TestEvidenceWhere: tcp.stream numbers are per capture file, so a report
// of several files names the file a finding's streams are numbered in, and
// groups them per file when the evidence spans both legs of a proxy.
func TestEvidenceWhere(t *testing.T) {
	two := []string{"client.pcap", "upstream.pcap"}
	for _, tc := range []struct {
		name   string
		files  []string
		f      analyzer.Finding
		max    int
		filter string
		left   int
		inFile string
	}{
		{"one file", []string{"a.pcap"},
			analyzer.Finding{TCPStreams: []int{1, 2}, StreamFiles: []int{0, 0}, Files: []int{0}}, 10,
			"tcp.stream eq 1 || tcp.stream eq 2", 0, ""},
		{"two files, evidence in the second", two,
			analyzer.Finding{TCPStreams: []int{4}, StreamFiles: []int{1}, Files: []int{1}}, 10,
			"tcp.stream eq 4", 0, "upstream.pcap"},
		{"both legs", two,
			analyzer.Finding{TCPStreams: []int{3, 7, 5}, StreamFiles: []int{0, 1, 0}, Files: []int{0, 1}}, 10,
			"tcp.stream eq 3 || tcp.stream eq 5 in client.pcap; tcp.stream eq 7 in upstream.pcap", 0, ""},
		{"both legs, cut", two,
			analyzer.Finding{TCPStreams: []int{3, 7, 5}, StreamFiles: []int{0, 1, 0}, Files: []int{0, 1}}, 2,
			"tcp.stream eq 3 in client.pcap; tcp.stream eq 7 in upstream.pcap", 1, ""},
		{"hand-built finding without files", two,
			analyzer.Finding{TCPStreams: []int{1}}, 10,
			"tcp.stream eq 1", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			filter, left, file := evidenceWhere(tc.files, &tc.f, tc.max)
			if filter != tc.filter || left != tc.left || file != tc.inFile {
				t.Errorf("evidenceWhere = %q, %d, %q; want %q, %d, %q", filter, left, file, tc.filter, tc.left, tc.inFile)
			}
		})
	}
}
