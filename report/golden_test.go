package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden (review the diff like code)")

// variant is one way of rendering a fixture for the goldens.
type variant struct {
	name, format string
	opts         Options
}

// goldenKey is a fixed anonymization key, so anonymized goldens are stable.
var goldenKey = []byte("golden-test-key")

func variants() []variant {
	return []variant{
		{"table.txt", "table", Options{}},
		{"table-v.txt", "table", Options{Verbose: true}},
		{"json", "json", Options{}},
		{"ndjson", "ndjson", Options{}},
		{"users.csv", "csv", Options{CSVTable: "users"}},
		{"connections.csv", "csv", Options{CSVTable: "connections"}},
		{"handshakes.csv", "csv", Options{CSVTable: "handshakes"}},
		{"findings.csv", "csv", Options{CSVTable: "findings"}},
		{"md", "markdown", Options{}},
		{"html", "html", Options{}},
	}
}

// extraVariants are rendered for the broken-balancer fixture only: colour,
// filters, kept queries and anonymization.
func extraVariants() []variant {
	return []variant{
		{"color.txt", "table", Options{Color: true}},
		{"user-bob.txt", "table", Options{Users: []string{"bob"}}},
		{"connection-1.txt", "table", Options{Connections: []int{1}}},
		{"keep-query.json", "json", Options{KeepQuery: true}},
		{"anon.md", "markdown", Options{Anonymize: true, AnonymizeKey: goldenKey}},
		{"anon.ndjson", "ndjson", Options{Anonymize: true, AnonymizeKey: goldenKey}},
	}
}

// TestGoldens renders every fixture in every format and compares with
// testdata/golden. Run `go test ./report -run TestGoldens -update` after an
// intended change and review the diff.
func TestGoldens(t *testing.T) {
	fx := fixtures()
	names := make([]string, 0, len(fx))
	for n := range fx {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		vs := variants()
		if name == "balancer" {
			vs = append(vs, extraVariants()...)
		}
		for _, v := range vs {
			t.Run(name+"."+v.name, func(t *testing.T) {
				got := render(t, v.format, v.opts, fx[name]())
				checkGolden(t, filepath.Join("testdata", "golden", name+"."+v.name), got)
			})
		}
	}
}

// TestRenderIsDeterministic renders twice: maps (statuses, causes) and
// sets must not leak their random order into the output.
func TestRenderIsDeterministic(t *testing.T) {
	for _, format := range Formats() {
		a := render(t, format, Options{}, balancerReport())
		for range 5 {
			if b := render(t, format, Options{}, balancerReport()); !bytes.Equal(a, b) {
				t.Fatalf("%s: two renders of the same report differ", format)
			}
		}
	}
}

// TestRenderLeavesModelAlone: renderers get a scrubbed copy.
func TestRenderLeavesModelAlone(t *testing.T) {
	r := balancerReport()
	want := render(t, "json", Options{KeepQuery: true}, r)
	for _, format := range Formats() {
		render(t, format, Options{Anonymize: true}, r)
	}
	if got := render(t, "json", Options{KeepQuery: true}, r); !bytes.Equal(got, want) {
		t.Fatal("rendering changed the report it was given")
	}
}

func render(t *testing.T, format string, opts Options, r *analyzer.Report) []byte {
	t.Helper()
	rd, err := New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rd.Render(&buf, r); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run TestGoldens -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendered output (run with -update and review the diff):\n%s", path, firstDiff(want, got))
	}
}

// firstDiff shows the first differing line of two outputs.
func firstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return "line " + itoa(i+1) + ":\n  want: " + string(w) + "\n  got:  " + string(g)
		}
	}
	return "(same lines, different bytes)"
}
