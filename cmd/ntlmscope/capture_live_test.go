//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
	"github.com/ntlmscope/ntlmscope/internal/syncbuf"
)

// requireLive skips a test that captures packets when the process is not
// root, unless NTLMSCOPE_REQUIRE_SHARED says this is CI (which runs as
// root): then it fails.
func requireLive(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and captures on lo")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("NTLMSCOPE_REQUIRE_SHARED") != "" {
			t.Fatal("live capture tests need root, and NTLMSCOPE_REQUIRE_SHARED is set (CI runs as root)")
		}
		t.Skip("skipping: live capture needs root (CAP_NET_RAW)")
	}
}

// captureProc is a running `ntlmscope capture`.
type captureProc struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's, once done
}

// runCapture runs `ntlmscope capture args...` and returns once it says
// it is capturing.
func runCapture(t *testing.T, bin string, args ...string) *captureProc {
	t.Helper()
	p := &captureProc{cmd: exec.Command(bin, append([]string{"capture"}, args...)...), stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	pr, pw := io.Pipe()
	p.cmd.Stderr = io.MultiWriter(p.stderr, pw)
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "capturing on ") {
				started <- true
				io.Copy(io.Discard, pr)
				return
			}
		}
		started <- false
	}()
	select {
	case ok := <-started:
		if !ok {
			t.Fatalf("capture did not start: %s", p.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("capture did not start in 15 s: %s", p.stderr)
	}
	return p
}

// stop sends sig and returns how long the process took to exit.
func (p *captureProc) stop(t *testing.T, sig os.Signal) time.Duration {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the capture did not exit 10 s after the signal")
	}
	d := time.Since(start)
	if p.err != nil {
		t.Errorf("capture exited: %v; stderr: %s", p.err, p.stderr)
	}
	return d
}

// ntlmGet logs in once with NTLM: with curl --ntlm when it is installed
// (as the acceptance test does), else with go-ntlmssp.
func ntlmGet(t *testing.T, url, user, password string) int {
	t.Helper()
	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "--ntlm", "-u", user+":"+password, url).Output()
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		var code int
		fmt.Sscan(string(out), &code)
		return code
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth(user, password)
	resp, err := (&http.Client{Transport: ntlmssp.Negotiator{RoundTripper: tr}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// reportHandshakes returns "user outcome" for each handshake of a JSON
// report, and its summary.
func reportHandshakes(t *testing.T, path string) ([]string, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Source      map[string]any `json:"source"`
		Summary     map[string]any `json:"summary"`
		Connections []struct {
			Handshakes []struct {
				User, Outcome string
			} `json:"handshakes"`
		} `json:"connections"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	var hs []string
	for _, c := range rep.Connections {
		for _, h := range c.Handshakes {
			hs = append(hs, h.User+" "+h.Outcome)
		}
	}
	rep.Summary["source_packets"] = rep.Source["packets"]
	return hs, rep.Summary
}

// TestCaptureNTLMLoginOnLoopback is the acceptance test: capture
// on lo while a client logs in with NTLM, stop with SIGTERM, and check the
// report, the capture file, and that analyze on the file agrees.
func TestCaptureNTLMLoginOnLoopback(t *testing.T) {
	requireLive(t)
	srv, err := ntlmserver.Start(ntlmserver.Options{Name: "WEB01", Users: []ntlmserver.User{{Name: "alice", Password: "Passw0rd!"}}}, "127.0.0.11:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := srv.Addr().(*net.TCPAddr).Port
	bin := buildBinary(t)
	dir := t.TempDir()
	pcap, rep := filepath.Join(dir, "x.pcapng"), filepath.Join(dir, "live.json")
	proc := runCapture(t, bin, "-i", "lo", "-w", pcap, "--format", "json", "-o", rep, fmt.Sprintf("tcp port %d", port))

	url := fmt.Sprintf("http://127.0.0.11:%d/page", port)
	if code := ntlmGet(t, url, "alice", "Passw0rd!"); code != 200 {
		t.Errorf("good password: HTTP %d", code)
	}
	if code := ntlmGet(t, url, "alice", "wrong"); code != 401 {
		t.Errorf("bad password: HTTP %d", code)
	}
	time.Sleep(300 * time.Millisecond) // the interface goes idle
	d := proc.stop(t, syscall.SIGTERM)
	if d > time.Second {
		t.Errorf("exit took %v after SIGTERM on an idle interface, want under 1 s", d)
	}
	if !strings.Contains(proc.stderr.String(), "packets captured, saved to "+pcap) {
		t.Errorf("stderr: %s", proc.stderr)
	}

	live, liveSum := reportHandshakes(t, rep)
	joined := strings.Join(live, ", ")
	t.Logf("exit %v after SIGTERM; handshakes: %s; summary %v", d, joined, liveSum)
	if !strings.Contains(joined, "alice succeeded") || !strings.Contains(joined, "alice failed") {
		t.Errorf("live report handshakes: %v, want alice succeeded and alice failed", live)
	}
	// The saved file, analysed offline, gives the same counts.
	offline := filepath.Join(dir, "offline.json")
	if out, err := exec.Command(bin, "analyze", "--format", "json", "-o", offline, pcap).CombinedOutput(); err != nil {
		t.Fatalf("analyze %s: %v\n%s", pcap, err, out)
	}
	again, offSum := reportHandshakes(t, offline)
	if strings.Join(again, ", ") != joined {
		t.Errorf("offline handshakes %v, live %v", again, live)
	}
	for _, k := range []string{"source_packets", "connections", "http_requests", "http_responses", "handshakes", "handshakes_succeeded", "handshakes_failed"} {
		if fmt.Sprint(liveSum[k]) != fmt.Sprint(offSum[k]) {
			t.Errorf("%s: live %v, offline %v", k, liveSum[k], offSum[k])
		}
	}
	if _, err := exec.LookPath("tshark"); err == nil {
		out, err := exec.Command("tshark", "-r", pcap, "-Y", "ntlmssp.messagetype == 3", "-T", "fields", "-e", "ntlmssp.auth.username").Output()
		if err != nil || strings.Count(string(out), "alice") != 2 {
			t.Errorf("tshark on the capture file: %v, user names %q, want alice twice", err, out)
		}
	}
}

// TestCaptureFilterExcludesEverything: a filter that excludes the traffic
// captures nothing, and SIGINT stops the capture as SIGTERM does.
func TestCaptureFilterExcludesEverything(t *testing.T) {
	requireLive(t)
	srv, err := ntlmserver.Start(ntlmserver.Options{Name: "WEB02"}, "127.0.0.12:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	bin := buildBinary(t)
	rep := filepath.Join(t.TempDir(), "r.json")
	proc := runCapture(t, bin, "-i", "lo", "--format", "json", "-o", rep, "-f", "host 127.0.0.13 and tcp")
	ntlmGet(t, "http://"+srv.Addr().String()+"/", "alice", "x")
	time.Sleep(200 * time.Millisecond)
	proc.stop(t, os.Interrupt)
	hs, sum := reportHandshakes(t, rep)
	if len(hs) != 0 || fmt.Sprint(sum["source_packets"]) != "0" {
		t.Errorf("the filter let packets through: %v, %v packets", hs, sum["source_packets"])
	}
}

// TestCaptureWithoutPrivilege drops CAP_NET_RAW and CAP_NET_ADMIN with
// setpriv: the capture refuses in one line that says what to do.
func TestCaptureWithoutPrivilege(t *testing.T) {
	requireLive(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	bin := buildBinary(t)
	out, err := exec.Command(setpriv, "--inh-caps=-all", "--bounding-set=-net_raw,-net_admin", "--", bin, "capture", "-i", "lo").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1; output %s", err, out)
	}
	want := "ntlmscope: capture on lo: not permitted to capture packets: run as root, or setcap cap_net_raw,cap_net_admin+eip $(which ntlmscope)\n"
	if string(out) != want {
		t.Errorf("output\n %q\nwant\n %q", out, want)
	}
}
