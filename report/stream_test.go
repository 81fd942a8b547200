package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// plainModel is r as a renderer reads it under the default options.
func plainModel(r *analyzer.Report) *model { return newModel(r, newScrubber(Options{})) }

// analyzeStreaming runs the real pipeline on captures read together and
// returns the streaming report.
func analyzeStreaming(t testing.TB, paths ...string) *analyzer.Report {
	t.Helper()
	src, err := reassembly.OpenFiles(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	an := analyzer.New(analyzer.Options{ToolVersion: "test", Files: names})
	if _, err := reassembly.Run(src, an, reassembly.Options{}); err != nil {
		t.Fatalf("%s: %v", paths, err)
	}
	r := an.FinishStreaming(src.Stats())
	if !r.Streaming() {
		t.Fatal("FinishStreaming gave a materialized report")
	}
	return r
}

// streamInputs lists the captures to analyze, each entry read as one run:
// every lab and public capture alone, and each lab scenario's client and
// upstream captures together (relayed handshakes, upstream legs).
func streamInputs(t *testing.T) [][]string {
	var inputs [][]string
	caps := labCaptures("*.pcap*")
	caps = append(caps, filepath.Join("..", "testdata", "synth", "small.pcapng"))
	if shared, _ := filepath.Glob(filepath.Join("..", "..", "shared", "captures", "*.pcap*")); len(shared) > 0 {
		caps = append(caps, shared...)
	}
	for _, c := range caps {
		if _, err := os.Stat(c); err == nil {
			inputs = append(inputs, []string{c})
		}
		if client, ok := strings.CutSuffix(c, "-client.pcap"); ok {
			if up := client + "-upstream.pcap"; fileExists(up) {
				inputs = append(inputs, []string{c, up})
			}
		}
	}
	if len(inputs) == 0 {
		t.Skip("no capture under ../testdata")
	}
	return inputs
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestStreamingRendersAsMaterialized renders the streaming report of real
// captures in every format and variant, anonymized or not, then the same
// report materialized: the bytes must be the same, and so must a second
// rendering of the streaming report (its connections are rebuilt each
// time they are read).
func TestStreamingRendersAsMaterialized(t *testing.T) {
	vs := append(variants(), extraVariants()...)
	vs = append(vs,
		variant{"anon.table.txt", "table", Options{Anonymize: true, AnonymizeKey: goldenKey, Verbose: true}},
		variant{"anon.json", "json", Options{Anonymize: true, AnonymizeKey: goldenKey}},
		variant{"anon.connections.csv", "csv", Options{Anonymize: true, AnonymizeKey: goldenKey, CSVTable: "connections"}},
		variant{"anon.handshakes.csv", "csv", Options{Anonymize: true, AnonymizeKey: goldenKey, CSVTable: "handshakes"}},
		variant{"anon.users.csv", "csv", Options{Anonymize: true, AnonymizeKey: goldenKey, CSVTable: "users"}},
		variant{"anon.findings.csv", "csv", Options{Anonymize: true, AnonymizeKey: goldenKey, CSVTable: "findings"}},
		variant{"anon.html", "html", Options{Anonymize: true, AnonymizeKey: goldenKey}},
		variant{"anon.keep-query.json", "json", Options{Anonymize: true, AnonymizeKey: goldenKey, KeepQuery: true}},
	)
	for _, in := range streamInputs(t) {
		name := filepath.Base(in[0])
		if len(in) > 1 {
			name += "+upstream"
		}
		t.Run(name, func(t *testing.T) {
			r := analyzeStreaming(t, in...)
			streamed := map[string][]byte{}
			for _, v := range vs {
				streamed[v.name] = render(t, v.format, v.opts, r)
				if again := render(t, v.format, v.opts, r); !bytes.Equal(again, streamed[v.name]) {
					t.Errorf("%s: two renders of the streaming report differ:\n%s", v.name, firstDiff(streamed[v.name], again))
				}
			}
			r.Materialize()
			if r.Streaming() || len(r.Connections) != r.ConnectionCount() {
				t.Fatal("Materialize left a streaming report")
			}
			for _, v := range vs {
				if got := render(t, v.format, v.opts, r); !bytes.Equal(got, streamed[v.name]) {
					t.Errorf("%s: the materialized report renders differently:\n%s", v.name, firstDiff(streamed[v.name], got))
				}
			}
		})
	}
}

// reportFields has analyzer.Report's fields without its methods: encoded
// by encoding/json as a whole, as the JSON format was before it streamed.
type reportFields analyzer.Report

// TestJSONIsTheEncoderOutput: the streaming JSON writer writes the bytes
// a json.Encoder (indented, HTML left alone) writes for the whole report,
// for the fixtures (hostile text included) and for real captures.
func TestJSONIsTheEncoderOutput(t *testing.T) {
	reports := map[string]*analyzer.Report{"hostile": hostileReport(), "zero": {}}
	for name, f := range fixtures() {
		reports[name] = f()
	}
	for _, in := range streamInputs(t) {
		r := analyzeStreaming(t, in...)
		r.Materialize()
		reports[filepath.Base(in[0])+itoa(len(in))] = r
	}
	for name, r := range reports {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode((*reportFields)(r)); err != nil {
			t.Fatal(err)
		}
		if got := render(t, "json", Options{KeepQuery: true}, r); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: the JSON differs from the encoder's:\n%s", name, firstDiff(want.Bytes(), got))
		}
	}
}
