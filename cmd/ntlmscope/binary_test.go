package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBinaryDecryptsSHA384Suite runs the built command (not this test
// binary, which links more of the standard library) on the lab's HTTPS
// capture, whose TLS 1.3 suite uses SHA-384: a hash the binary must link
// in itself.
func TestBinaryDecryptsSHA384Suite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	lab := filepath.Join("..", "..", "testdata", "lab")
	out, err := exec.Command(bin, "analyze", "--format", "json",
		"--keylog", filepath.Join(lab, "scenario10-balancer-round-robin-https-client.keylog"),
		filepath.Join(lab, "scenario10-balancer-round-robin-https-client.pcap")).Output()
	if err != nil {
		t.Fatalf("analyze: %v\n%s", err, out)
	}
	var rep struct {
		Verdict struct{ Code string }    `json:"verdict"`
		Summary struct{ Handshakes int } `json:"summary"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Code != "balancer-breaks-ntlm" || rep.Summary.Handshakes != 3 {
		t.Errorf("verdict %q with %d handshakes, want balancer-breaks-ntlm with 3", rep.Verdict.Code, rep.Summary.Handshakes)
	}
}
