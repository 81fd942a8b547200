package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir is where the project's shared material lies: beside the
// repository root. Tests never copy from it into the repository.
var sharedDir = filepath.Join("..", "..", "..", "shared")

// sharedCapture returns the path of a public capture under
// ../shared/captures, skipping the test when the folder is absent (unless
// NTLMSCOPE_REQUIRE_SHARED is set, as CI does: CI always has it).
func sharedCapture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(sharedDir, "captures", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("NTLMSCOPE_REQUIRE_SHARED") != "" {
			t.Fatalf("%s is missing but NTLMSCOPE_REQUIRE_SHARED is set: %v", p, err)
		}
		t.Skipf("skipping: %s not found (the public captures live in ../shared/captures beside the repository)", p)
	}
	return p
}

// jsonReport runs `ntlmscope analyze --format json` on files and decodes
// the report generically, as a script would.
func jsonReport(t *testing.T, files ...string) map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: bytes.NewReader(nil), Out: &out, ErrOut: &errOut}
	if code := run(append([]string{"analyze", "--format", "json"}, files...), ios); code != exitOK {
		t.Fatalf("analyze %v: exit %d: %s", files, code, errOut.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("analyze %v: output is not JSON: %v\n%s", files, err, out.String())
	}
	return rep
}

// streamCounts is the number of HTTP requests and responses on one
// Wireshark tcp.stream.
type streamCounts struct{ requests, responses int }

// httpCounts extracts, per tcp_stream, the requests and responses of the
// report's connections.
func httpCounts(rep map[string]any) map[int]streamCounts {
	got := map[int]streamCounts{}
	conns, _ := rep["connections"].([]any)
	for _, c := range conns {
		cm := c.(map[string]any)
		s := int(cm["tcp_stream"].(float64))
		sc := got[s]
		sc.requests += int(cm["requests"].(float64))
		if st, ok := cm["statuses"].(map[string]any); ok {
			for _, n := range st {
				sc.responses += int(n.(float64))
			}
		}
		got[s] = sc
	}
	return got
}

// TestSharedCapturesHTTPParity checks, for every public capture, that the
// HTTP requests and responses per TCP connection equal tshark's count. The
// expected numbers were measured with tshark 4.0.17:
//
//	tshark -r FILE -Y 'tcp && (http.request || http.response)' \
//	    -T fields -e tcp.stream -e http.request -e http.response
//
// counting, per tcp.stream, the lines with http.request and http.response.
// TestTsharkParityTool runs the same comparison live when tshark is installed.
func TestSharedCapturesHTTPParity(t *testing.T) {
	cases := []struct {
		file string
		want map[int]streamCounts
	}{
		{"BruteShark-http-negotiate-kerberos-500.pcap", map[int]streamCounts{0: {1, 1}, 1: {1, 1}}},
		{"BruteShark-http-negotiate-kerberos-iis.pcap", map[int]streamCounts{0: {2, 2}}},
		{"BruteShark-http-negotiate-raw-ntlm.pcap", map[int]streamCounts{0: {3, 3}}},
		{"BruteShark-http-negotiate-raw-ntlm.pcapng", map[int]streamCounts{0: {3, 3}}},
		{"BruteShark-http-ntlm-midstream.pcap", map[int]streamCounts{0: {12, 6}, 1: {6, 2}, 2: {6, 3}, 3: {5, 1}, 4: {4, 1}, 5: {7, 3}}},
		{"BruteShark-http-ntlm-midstream.pcapng", map[int]streamCounts{0: {12, 6}, 1: {6, 2}, 2: {6, 3}, 3: {5, 1}, 4: {4, 1}, 5: {7, 3}}},
		{"OTRF-winrm-kerberos-scheme.pcap", map[int]streamCounts{8: {4, 4}, 26: {4, 4}, 27: {5, 5}, 28: {6, 6}, 29: {5, 5}, 30: {6, 6}, 31: {2, 2}, 32: {1, 1}, 33: {2, 1}}},
		{"arkime-ntlm-synthetic-ipv6.pcap", map[int]streamCounts{3: {2, 2}, 4: {2, 2}}},
		{"nDPI-webdav-curl-iis.pcap", map[int]streamCounts{0: {2, 2}, 1: {2, 2}, 2: {2, 2}, 3: {2, 2}, 4: {2, 2}, 5: {2, 2}, 6: {2, 2}, 7: {2, 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			rep := jsonReport(t, sharedCapture(t, tc.file))
			got := httpCounts(rep)
			for s, w := range tc.want {
				if got[s] != w {
					t.Errorf("tcp.stream %d: got %d requests / %d responses, tshark has %d / %d", s, got[s].requests, got[s].responses, w.requests, w.responses)
				}
			}
			for s, g := range got {
				if _, ok := tc.want[s]; !ok {
					t.Errorf("tcp.stream %d: ntlmscope reports %d requests / %d responses, tshark sees no HTTP there", s, g.requests, g.responses)
				}
			}
		})
	}
}
