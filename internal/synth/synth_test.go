package synth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/internal/synth"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// The capture kept in testdata, and how to make it again (go generate runs
// the same command; see gen.go in this package).
const (
	smallCapture  = "../../testdata/synth/small.pcapng"
	smallExpected = "../../testdata/synth/small.expected.json"
)

// smallConfig is the configuration of the testdata capture.
func smallConfig() synth.Config {
	cfg := synth.SmallConfig()
	cfg.Seed = 1
	cfg.Size = 150_000
	return cfg
}

func generate(t *testing.T, cfg synth.Config) ([]byte, *synth.Expected) {
	t.Helper()
	var buf bytes.Buffer
	exp, err := synth.Generate(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if exp.Bytes != int64(buf.Len()) {
		t.Fatalf("Expected.Bytes = %d, wrote %d", exp.Bytes, buf.Len())
	}
	return buf.Bytes(), exp
}

func TestDeterministic(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Size = 7, 2_000_000
	a, ea := generate(t, cfg)
	b, eb := generate(t, cfg)
	if ha, hb := sha256.Sum256(a), sha256.Sum256(b); ha != hb {
		t.Fatalf("same seed, different bytes: %x vs %x", ha, hb)
	}
	ja, _ := json.Marshal(ea)
	jb, _ := json.Marshal(eb)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("same seed, different expectations:\n%s\n%s", ja, jb)
	}
	cfg.Seed = 8
	c, _ := generate(t, cfg)
	if bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 wrote the same bytes")
	}
}

// TestTestdataUpToDate keeps the kept capture what the generator writes:
// after a change to the generator, run `go generate ./internal/synth` and
// review the new expected counts like code.
func TestTestdataUpToDate(t *testing.T) {
	got, exp := generate(t, smallConfig())
	want, err := os.ReadFile(smallCapture)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) >= 300_000 {
		t.Errorf("%s is %d bytes: keep it under 300 KB", smallCapture, len(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale (sha256 %s, generator writes %s): run go generate ./internal/synth",
			smallCapture, sum(want), sum(got))
	}
	var buf bytes.Buffer
	if err := exp.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	wantJSON, err := os.ReadFile(smallExpected)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), wantJSON) {
		t.Fatalf("%s is stale: run go generate ./internal/synth", smallExpected)
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// TestSmallCoversEveryScenario checks that the kept capture exercises the
// whole mix and every outcome.
func TestSmallCoversEveryScenario(t *testing.T) {
	exp := readExpected(t)
	for _, name := range []string{"healthy", "negotiate", "balancer", "wrong_password", "abandoned", "proxy",
		"kerberos", "plain", "long_keepalive", "large_body", "tls", "smb", "dns"} {
		if exp.Scenarios[name] == 0 {
			t.Errorf("scenario %s missing from %s", name, smallCapture)
		}
	}
	s := exp.Summary
	if s.HandshakesSucceeded == 0 || s.HandshakesFailed == 0 || s.HandshakesAbandoned == 0 || s.KerberosExchanges == 0 {
		t.Errorf("an outcome is missing: %+v", s)
	}
}

func readExpected(t *testing.T) *synth.Expected {
	t.Helper()
	f, err := os.Open(smallExpected)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exp, err := synth.ReadExpected(f)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// TestAnalyzerReportsConstruction runs the whole pipeline on the kept
// capture, in process, and checks every source and summary count against
// the construction.
func TestAnalyzerReportsConstruction(t *testing.T) {
	checkAnalyzer(t, smallCapture, readExpected(t))
}

// TestAnalyzerReportsConstructionBusy does the same on a few megabytes of
// the default mix: hundreds of interleaved connections, IPv6 clients,
// many users and backends.
func TestAnalyzerReportsConstructionBusy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Size = 11, 4_000_000
	b, exp := generate(t, cfg)
	path := filepath.Join(t.TempDir(), "busy.pcapng")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if exp.MaxOpen < 100 || exp.Summary.Users < 100 {
		t.Errorf("not busy: %d open at once, %d users", exp.MaxOpen, exp.Summary.Users)
	}
	checkAnalyzer(t, path, exp)
}

func checkAnalyzer(t *testing.T, path string, exp *synth.Expected) {
	t.Helper()
	src, err := reassembly.OpenFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	an := analyzer.New(analyzer.Options{})
	if _, err := reassembly.Run(src, an, reassembly.Options{}); err != nil {
		t.Fatal(err)
	}
	rep := an.Finish(src.Stats())
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := synth.ReadReportCounts(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	bad, causes, err := exp.Compare(rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range bad {
		t.Error(m)
	}
	for _, m := range causes {
		t.Logf("verdict cause (informational): %s", m)
	}
	if t.Failed() {
		t.Logf("verdict %s: %s", rep.Verdict.Code, rep.Verdict.Explanation)
	}
}

// TestTsharkAgrees reads the kept capture with tshark: no errors, and the
// HTTP requests and responses and NTLMSSP messages it dissects are those
// of the construction.
func TestTsharkAgrees(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (make deps installs it)")
	}
	exp := readExpected(t)
	cmd := exec.Command("tshark", "-n", "-r", smallCapture, "-T", "fields",
		"-e", "http.request", "-e", "http.response", "-e", "ntlmssp.messagetype")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.Bytes())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		// tshark warns that it runs as root; anything else is a complaint.
		if line != "" && !strings.Contains(line, "Running as user") {
			t.Errorf("tshark: %s", line)
		}
	}
	var reqs, resps, packets int64
	types := map[string]int64{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("tshark printed %q", line)
		}
		packets++
		if f[0] != "" {
			reqs++
		}
		if f[1] != "" {
			resps++
		}
		for _, mt := range strings.Split(f[2], ",") {
			if mt != "" {
				types[mt]++
			}
		}
	}
	s := exp.Summary
	type3 := s.HandshakesSucceeded + s.HandshakesFailed
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"packets", packets, exp.Source.Packets},
		{"http.request", reqs, s.HTTPRequests},
		{"http.response", resps, s.HTTPResponses},
		{"NTLMSSP_NEGOTIATE", types["0x00000001"], s.Handshakes},
		{"NTLMSSP_CHALLENGE", types["0x00000002"], s.AuthChallenges},
		{"NTLMSSP_AUTH", types["0x00000003"], type3},
	} {
		if c.got != c.want {
			t.Errorf("tshark %s: %d, want %d", c.what, c.got, c.want)
		}
	}
}

// TestGeneratedSizes checks that the output reaches the size asked for
// without running far past it.
func TestGeneratedSizes(t *testing.T) {
	for _, size := range []int64{50_000, 3_000_000} {
		t.Run(strconv.FormatInt(size, 10), func(t *testing.T) {
			cfg := synth.DefaultConfig()
			cfg.Seed, cfg.Size = 3, size
			_, exp := generate(t, cfg)
			if exp.Bytes < size || exp.Bytes > size*2+2_000_000 {
				t.Errorf("asked for %d bytes, wrote %d", size, exp.Bytes)
			}
			if exp.Source.TCPConnections == 0 || exp.Summary.HTTPRequests == 0 {
				t.Errorf("nothing generated: %+v", exp)
			}
		})
	}
}
