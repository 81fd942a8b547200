package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

func TestCaptureFlagsWiring(t *testing.T) {
	ios, _, _ := testIO()
	var got *captureOptions
	cmd := newCmdCapture(ios, func(o *captureOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-i", "eth0", "-w", "x.pcapng", "--rotate-size", "10", "--rotate-count", "3",
		"--duration", "5s", "-c", "100", "-s", "1500", "--promisc", "-B", "32", "--format", "json", "-o", "r.json",
		"--keylog", "a.keys", "--keylog", "b.keys", "--html", "r.html", "--json", "j.json", "--markdown", "r.md",
		"--fail-on", "error,AUTH_FAILED", "--anonymize-key", "k", "--keep-query", "tcp", "port", "80"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := captureOptions{IO: ios, Interface: "eth0", Filter: "tcp port 80", Snaplen: 1500, Promisc: true, BufferMiB: 32,
		Write: "x.pcapng", RotateMB: 10, RotateCount: 3, Duration: 5 * time.Second, Count: 100,
		reportOptions: reportOptions{Format: "json", Output: "r.json", HTMLFile: "r.html", JSONFile: "j.json", MarkdownFile: "r.md",
			FailOn: []string{"error", "AUTH_FAILED"}, AnonymizeKey: "k", KeepQuery: true},
		analysisOptions: analysisOptions{RestartWindow: 30 * time.Second, IdleTimeout: 5 * time.Minute, MaxConns: 250_000,
			KeyLogs: []string{"a.keys", "b.keys"}}}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("options\n got %+v\nwant %+v", *got, want)
	}

	cmd = newCmdCapture(ios, func(o *captureOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-i", "lo", "-f", "tcp", "port", "80"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "give the filter once") {
		t.Errorf("-f and a filter after the options: %v", err)
	}
}

func TestCaptureUsageErrors(t *testing.T) {
	bpf := filepath.Join(t.TempDir(), "bad.bpf")
	os.WriteFile(bpf, []byte("2\n6 0 0 0\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no interface", []string{"capture"}, []string{"no interface given: use -i IFACE", "any", "lo"}},
		{"unknown interface", []string{"capture", "-i", "nosuch0"}, []string{"capture on nosuch0: no such interface", "the interfaces are any, lo"}},
		{"bad filter", []string{"capture", "-i", "lo", "tcp port http"},
			[]string{"bad filter: filter: column 10: port names are not looked up", "--bpf-file", "\n  tcp port http\n           ^"}},
		{"unsupported filter", []string{"capture", "-i", "lo", "-f", "vlan and tcp"}, []string{"column 1", `"vlan" is tcpdump syntax outside`}},
		{"filter and program", []string{"capture", "-i", "lo", "-f", "tcp", "--bpf-file", "f"}, []string{"give one"}},
		{"bad program", []string{"capture", "-i", "lo", "--bpf-file", bpf}, []string{"announces 2 instructions and has 1"}},
		{"rotate without file", []string{"capture", "-i", "lo", "--rotate-size", "5"}, []string{"add -w FILE"}},
		{"count without size", []string{"capture", "-i", "lo", "-w", "x", "--rotate-count", "5"}, []string{"--rotate-count needs --rotate-size"}},
		{"tiny snaplen", []string{"capture", "-i", "lo", "-s", "10"}, []string{"--snaplen 10"}},
		{"bad format", []string{"capture", "-i", "lo", "--format", "xml"}, []string{`unknown format "xml"`}},
		{"interfaces takes no argument", []string{"interfaces", "lo"}, []string{"unknown command"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, errOut := testIO()
			if code := run(tc.args, ios); code != exitError {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q does not contain %q", errOut.String(), w)
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout should be empty, got %q", out.String())
			}
		})
	}
}

func TestInterfacesCommand(t *testing.T) {
	ios, out, _ := testIO()
	opts := &interfacesOptions{IO: ios, list: func() ([]reassembly.LiveInterface, error) {
		return []reassembly.LiveInterface{
			{Index: 1, Name: "lo", Flags: net.FlagUp | net.FlagLoopback, LinkType: 1,
				Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}},
			{Index: 7, Name: "wg0\x1b[31m", Flags: net.FlagPointToPoint, LinkType: 101},
		}, nil
	}}
	if err := interfacesRun(opts); err != nil {
		t.Fatal(err)
	}
	want := `NAME      INDEX  FLAGS                CAPTURED AS  ADDRESSES
any       -      up                   raw IP       all interfaces
lo        1      up,loopback          Ethernet     127.0.0.1/8 ::1/128
wg0?[31m  7      DOWN,point-to-point  raw IP       
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	opts.list = func() ([]reassembly.LiveInterface, error) { return nil, errors.New("netlink: boom") }
	if err := interfacesRun(opts); err == nil || !strings.Contains(err.Error(), "cannot list the interfaces: netlink: boom") {
		t.Errorf("error %v", err)
	}
	// The real list has the loopback interface.
	ios, out, _ = testIO()
	if code := run([]string{"interfaces"}, ios); code != exitOK || !bytes.Contains(out.Bytes(), []byte("\nlo ")) {
		t.Errorf("exit %d, output %q", code, out.String())
	}
}
