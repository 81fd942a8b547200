package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// hostileReport puts attacker-chosen wire text everywhere a name or path
// goes: user, domain and workstation names of a Type 3, a server identity
// from a Type 2, a request-target with a query.
func hostileReport() *analyzer.Report {
	r := balancerReport()
	const user = `<script>alert(1)</script>`
	const domain = "EVIL\x1b[31m"
	name := domain + `\` + user
	r.Users[0].Name, r.Users[0].User, r.Users[0].Domain = name, user, domain
	r.Users[0].Workstations = []string{"=HYPERLINK(\"http://x\")", "WS\u202etxt.exe"}
	r.Backends[0].Identity = `"><img src=x onerror=alert(2)>`
	c := &r.Connections[0]
	c.Users = []string{name}
	c.Handshakes[0].User, c.Handshakes[0].Workstation = name, "\x1b]0;pwned\x07"
	c.Exchanges[1].Target = `/a"><svg onload=alert(3)>?token=QUERY-SECRET`
	c.Exchanges[1].Method = "GET\x1b[2J"
	r.Findings[1].Message = "see [click](javascript:alert(4)) and <b>bold</b> | pipe\nnew line \x1b[31m"
	r.Findings[1].Users = []string{name}
	r.Verdict.Explanation += " " + name
	return r
}

// TestWireTextIsEscaped renders the hostile report in every format: no
// terminal control sequence reaches the table, no markup the Markdown or
// the HTML, no formula the spreadsheet, and the query is gone.
func TestWireTextIsEscaped(t *testing.T) {
	r := hostileReport()
	for _, format := range Formats() {
		for _, table := range csvTablesFor(format) {
			out := render(t, format, Options{CSVTable: table}, r)
			if bytes.Contains(out, []byte("QUERY-SECRET")) {
				t.Errorf("%s %s: the query string is in the output", format, table)
			}
			switch format {
			case "table", "csv", "markdown":
				for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
					if bytes.Contains(out, []byte(bad)) {
						t.Errorf("%s %s: raw control character %q", format, table, bad)
					}
				}
			}
		}
	}

	table := string(render(t, "table", Options{}, r))
	if !strings.Contains(table, `EVIL\x1b[31m\<script>`) {
		t.Errorf("table: control characters should print escaped:\n%s", table)
	}

	page := string(render(t, "html", Options{}, r))
	for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", `href="javascript`} {
		if strings.Contains(page, bad) {
			t.Errorf("html: %q is not escaped", bad)
		}
	}
	if strings.Count(page, "<script") != 1 {
		t.Errorf("html: want exactly the report's own script, found %d", strings.Count(page, "<script"))
	}

	src := render(t, "markdown", Options{}, r)
	p := parseMarkdown(t, src)
	if len(p.rawHTML) > 0 {
		t.Errorf("markdown: raw HTML from the wire: %v", p.rawHTML)
	}
	var out bytes.Buffer
	if err := md.Convert(src, &out); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<img", "<b>", `href="javascript`} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("markdown renders %q", bad)
		}
	}

	rows, err := csv.NewReader(bytes.NewReader(render(t, "csv", Options{CSVTable: "users"}, r))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("csv: cell %q would run as a formula", cell)
			}
		}
	}

	for _, format := range []string{"json", "ndjson"} {
		for i, line := range bytes.Split(bytes.TrimSpace(render(t, format, Options{}, r)), []byte("\n")) {
			if format == "json" {
				line = render(t, format, Options{}, r)
			}
			if !json.Valid(line) {
				t.Fatalf("%s line %d is not JSON", format, i+1)
			}
			if bytes.ContainsAny(line, "\x1b\x07") {
				t.Errorf("%s: raw control character (the encoder should escape it)", format)
			}
			if format == "json" {
				break
			}
		}
	}
}

// TestKeepQuery: with --keep-query the target stays whole; by default the
// query (and fragment) is dropped from every exchange.
func TestKeepQuery(t *testing.T) {
	if out := render(t, "json", Options{KeepQuery: true}, balancerReport()); !bytes.Contains(out, []byte("?session=Q-SECRET-1")) {
		t.Error("--keep-query dropped the query")
	}
	s := newScrubber(Options{})
	for in, want := range map[string]string{"/a?b=c": "/a", "/a#frag": "/a", "/a": "/a", "*": "*", "http://h/p?q": "http://h/p"} {
		if got := s.target("GET", in); got != want {
			t.Errorf("target(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSanitize covers the terminal escaping of wire text.
func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         "plain",
		"a\x1b[31mb":    `a\x1b[31mb`,
		"tab\there":     `tab\x09here`,
		"nl\nx":         `nl\x0ax`,
		"c1\u009bx":     `c1\x9bx`,
		"bidi\u202etxt": `bidi\u202etxt`,
		"üñíçødé":       "üñíçødé",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}
