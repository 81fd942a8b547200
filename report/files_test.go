package report

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// TestConnectionRowsNameTheirFile: a report of several captures numbers
// tcp.stream per file, so every connection row of the table, Markdown and
// HTML says which capture its filter is for, by base name (and a report
// of one capture names none).
func TestConnectionRowsNameTheirFile(t *testing.T) {
	client, upstream := labLegs(t, "scenario3-balancer-round-robin")
	named := regexp.MustCompile(`\bin (<span[^>]*>)?scenario3-balancer-round-robin-(client|upstream)\.pcap`)
	for _, c := range []struct {
		format string
		// section cuts out the connection rows; row matches one row's
		// filter.
		section func(string) string
		row     *regexp.Regexp
	}{
		{"table", between("\nConnections\n", "\nFindings"), regexp.MustCompile(`│ \d+ +│ tcp\.stream eq \d+`)},
		{"markdown", between("## Connections with findings\n\n", "\n\n"), regexp.MustCompile("\\| \\d+ \\| `tcp\\.stream eq \\d+`")},
		{"html", func(s string) string { return s }, regexp.MustCompile(`<td><code>tcp\.stream eq \d+</code>|<summary>Connection \d+ · <code>tcp\.stream eq \d+</code>|<title>connection \d+ \(tcp\.stream eq \d+`)},
	} {
		for _, paths := range [][]string{{client, upstream}, {client}} {
			out := c.section(string(render(t, c.format, Options{Verbose: true}, analyzeStreaming(t, paths...))))
			var rows, withFile int
			for _, line := range strings.Split(out, "\n") {
				for _, loc := range c.row.FindAllStringIndex(line, -1) {
					rows++
					// The table wraps the file name onto the cell's next line.
					if rest := line[loc[0]:]; named.MatchString(rest) || c.format == "table" && strings.HasSuffix(strings.TrimSpace(line[loc[1]:loc[1]+4]), "in") {
						withFile++
					}
				}
			}
			want := rows
			if len(paths) == 1 {
				want = 0
			}
			if rows == 0 || withFile != want {
				t.Errorf("%s of %d file(s): %d of %d connection rows name their file:\n%s", c.format, len(paths), withFile, rows, out)
			}
		}
	}
}

// between returns a function that cuts a text from the first start to the
// next end after it.
func between(start, end string) func(string) string {
	return func(s string) string {
		_, after, _ := strings.Cut(s, start)
		before, _, _ := strings.Cut(after, end)
		return before
	}
}

// TestFailedOf: abandoned handshakes are not called failed.
func TestFailedOf(t *testing.T) {
	for _, c := range []struct {
		failed, abandoned, total int
		noun, want               string
	}{
		{2, 0, 5, "", "2 of 5 failed"},
		{0, 1, 1, "", "1 of 1 abandoned"},
		{2, 1, 4, "", "3 of 4 failed or abandoned"},
		{1, 0, 2, "handshake", "1 of 2 handshakes failed"},
		{0, 1, 1, "handshake", "1 of 1 handshake abandoned"},
	} {
		if got := failedOf(c.failed, c.abandoned, c.total, c.noun); got != c.want {
			t.Errorf("failedOf(%d, %d, %d, %q) = %q, want %q", c.failed, c.abandoned, c.total, c.noun, got, c.want)
		}
	}
}

// TestMessagesLocateConnections: a finding's message names connections by
// id, which counts every capture's connections; with several captures it
// adds the tcp.stream and file Wireshark needs, and they must be the
// connection's own. With one capture the id is the tcp.stream.
func TestMessagesLocateConnections(t *testing.T) {
	client, upstream := labLegs(t, "scenario7-client-new-connection-per-leg")
	ref := regexp.MustCompile(`connection (\d+)( \(tcp\.stream (\d+) in ([^)]+)\))?`)
	for _, paths := range [][]string{{client, upstream}, {client}} {
		r := analyzeStreaming(t, paths...)
		r.Materialize()
		byID := map[string]struct {
			stream string
			file   string
		}{}
		labels := analyzer.FileLabels(r.Source.Files)
		for _, c := range r.Connections {
			byID[strconv.Itoa(c.ID)] = struct {
				stream string
				file   string
			}{strconv.Itoa(c.TCPStream), labels[c.File]}
		}
		refs := 0
		for _, f := range r.Findings {
			for _, m := range ref.FindAllStringSubmatch(f.Message, -1) {
				refs++
				c, ok := byID[m[1]]
				switch {
				case !ok:
					t.Errorf("%d file(s): %s names connection %s, not in the report: %s", len(paths), f.Code, m[1], f.Message)
				case len(paths) == 1 && (m[2] != "" || m[1] != c.stream):
					t.Errorf("1 file: %s names %q for tcp.stream %s: %s", f.Code, m[0], c.stream, f.Message)
				case len(paths) > 1 && (m[3] != c.stream || m[4] != c.file):
					t.Errorf("%d files: %s names %q for tcp.stream %s in %s: %s", len(paths), f.Code, m[0], c.stream, c.file, f.Message)
				}
			}
		}
		if refs == 0 {
			t.Errorf("%d file(s): no message names a connection", len(paths))
		}
	}
	if got := analyzer.FileLabels([]string{"a/capture.pcap", "b/capture.pcap"}); got[0] != "a/capture.pcap" {
		t.Errorf("two files of one base name are labelled %q", got)
	}
	if got := analyzer.FileLabels([]string{"a/client.pcap", "b/upstream.pcap"}); got[0] != "client.pcap" || got[1] != "upstream.pcap" {
		t.Errorf("files labelled %q", got)
	}
}

// TestFindingFrames: frames are per file, so a finding whose evidence
// spans captures says which capture each frame is in.
func TestFindingFrames(t *testing.T) {
	labels := []string{"client.pcap", "upstream.pcap"}
	for _, c := range []struct {
		name   string
		labels []string
		f      analyzer.Finding
		max    int
		want   string
	}{
		{"one capture", labels[:1], analyzer.Finding{Files: []int{0}, Frames: []int64{7, 9}, FrameFiles: []int{0, 0}}, 8, "7, 9"},
		{"evidence in one of two", labels, analyzer.Finding{Files: []int{0}, Frames: []int64{7, 9}, FrameFiles: []int{0, 0}}, 8, "7, 9"},
		{"connections in two, frames in one", labels, analyzer.Finding{Files: []int{0, 1}, Frames: []int64{7, 8, 9, 10},
			FrameFiles: []int{0, 0, 0, 0}}, 8, "7, 8, 9, 10 in client.pcap"},
		{"frames in two", labels, analyzer.Finding{Files: []int{0, 1}, Frames: []int64{7, 9, 21, 23},
			FrameFiles: []int{0, 0, 1, 1}}, 8, "7, 9 in client.pcap; 21, 23 in upstream.pcap"},
		{"cut", labels, analyzer.Finding{Files: []int{0, 1}, Frames: []int64{7, 9, 21, 23},
			FrameFiles: []int{0, 0, 1, 1}}, 3, "7, 9 in client.pcap; 21 in upstream.pcap (+1 more)"},
	} {
		if got := findingFrames(c.labels, &c.f, c.max); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestRoutedFindingCitesBothLegs: a Type 3 the balancer moved is shown in
// the frames of both legs, each numbered in its own capture.
func TestRoutedFindingCitesBothLegs(t *testing.T) {
	client, upstream := labLegs(t, "scenario3-balancer-round-robin")
	r := analyzeStreaming(t, client, upstream)
	n := 0
	for _, f := range r.Findings {
		if f.Code != analyzer.CodeType3RoutedToOtherBackend {
			continue
		}
		n++
		per := map[int]int{}
		for _, fi := range f.FrameFiles {
			per[fi]++
		}
		// Type 1, Type 2, Type 3 and the final response on each leg.
		if len(f.FrameFiles) != len(f.Frames) || per[0] != 4 || per[1] != 4 {
			t.Errorf("frames %v in files %v: want 4 of each leg", f.Frames, f.FrameFiles)
		}
	}
	if n == 0 {
		t.Fatal("no TYPE3_ROUTED_TO_OTHER_BACKEND")
	}
}

// TestBackendsOwnAddresses: with the upstream leg captured, a backend is
// listed at its own address, not at the balancer's, which every backend's
// challenges cross on the client leg (and which is all a capture of the
// client leg shows).
func TestBackendsOwnAddresses(t *testing.T) {
	client, upstream := labLegs(t, "scenario3-balancer-round-robin")
	for _, paths := range [][]string{{client, upstream}, {client}} {
		r := analyzeStreaming(t, paths...)
		r.Materialize()
		vip := ""
		for _, c := range r.Connections {
			if c.Leg == "client" {
				vip = c.Server
			}
		}
		if len(r.Backends) == 0 || vip == "" {
			t.Fatalf("%d file(s): %d backends, balancer address %q", len(paths), len(r.Backends), vip)
		}
		for _, b := range r.Backends {
			onVIP := len(b.Servers) == 1 && b.Servers[0] == vip
			if len(paths) == 1 && !onVIP || len(paths) == 2 && slices.Contains(b.Servers, vip) {
				t.Errorf("%d file(s): backend %s at %v (balancer %s)", len(paths), b.Identity, b.Servers, vip)
			}
		}
	}
}

// TestAnonymizeHidesFileLabels: messages and tables name the captures of
// a run of several by base name; --anonymize hides those as it hides the
// paths, with the same pseudonym.
func TestAnonymizeHidesFileLabels(t *testing.T) {
	client, upstream := labLegs(t, "scenario3-balancer-round-robin")
	r := analyzeStreaming(t, client, upstream)
	r.Source.Files = []string{client, upstream} // as given on the command line, with their directories
	for _, format := range Formats() {
		for _, table := range csvTablesFor(format) {
			out := string(render(t, format, Options{Anonymize: true, CSVTable: table, Verbose: true}, r))
			if i := strings.Index(out, "scenario3"); i >= 0 {
				t.Errorf("%s %s: a file name is still there: …%s…", format, table, around([]byte(out), i))
			}
		}
	}
}

// labLegs returns the client and upstream captures of a lab scenario, or
// skips the test when they are missing.
func labLegs(t *testing.T, scenario string) (client, upstream string) {
	t.Helper()
	client = filepath.Join("..", "testdata", "lab", scenario+"-client.pcap")
	upstream = filepath.Join("..", "testdata", "lab", scenario+"-upstream.pcap")
	if !fileExists(client) || !fileExists(upstream) {
		t.Skipf("lab captures of %s missing", scenario)
	}
	return client, upstream
}
