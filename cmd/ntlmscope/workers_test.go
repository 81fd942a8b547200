package main

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestWorkersIdenticalReport: the report does not depend on --workers.
func TestWorkersIdenticalReport(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "lab", "*.pcap"))
	synth, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "synth", "*.pcapng"))
	files = append(files, synth...)
	if len(files) == 0 {
		t.Fatal("no captures under testdata")
	}
	render := func(workers string, f string) []byte {
		var out, errOut bytes.Buffer
		ios := &IOStreams{In: bytes.NewReader(nil), Out: &out, ErrOut: &errOut}
		if code := run([]string{"analyze", "--format", "json", "--workers", workers, f}, ios); code != exitOK {
			t.Fatalf("%s --workers %s: exit %d: %s", f, workers, code, errOut.String())
		}
		return out.Bytes()
	}
	for _, f := range files {
		one, two := render("1", f), render("2", f)
		if !bytes.Equal(one, two) {
			t.Errorf("%s: the report with --workers 2 differs from --workers 1", filepath.Base(f))
		}
	}
}
