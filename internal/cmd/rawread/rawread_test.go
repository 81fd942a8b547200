package main

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/synth"
)

// TestReadsSmallCapture reads the kept synthetic capture: every packet,
// every TCP one decoded, nothing undecodable (its only non-TCP packets are
// the DNS scenario's two UDP datagrams).
func TestReadsSmallCapture(t *testing.T) {
	ef, err := os.Open("../../../testdata/synth/small.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	exp, err := synth.ReadExpected(ef)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"../../../testdata/synth/small.pcapng"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	udp := int64(2 * exp.Scenarios["dns"])
	if res.Packets != exp.Source.Packets || res.TCPPackets != res.Packets-udp || res.Undecoded != 0 || res.Bytes != exp.Bytes {
		t.Errorf("read %+v; want %d packets, %d TCP, %d bytes", res, exp.Source.Packets, exp.Source.Packets-udp, exp.Bytes)
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(nil, &out, &errOut); code != exitUsage || errOut.Len() == 0 {
		t.Errorf("no argument: exit %d, stderr %q", code, errOut.String())
	}
	if code := run([]string{"/nonexistent/file"}, &out, &errOut); code != exitError {
		t.Errorf("missing file: exit %d", code)
	}
}
