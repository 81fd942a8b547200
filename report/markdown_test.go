package report

import (
	"bytes"
	"fmt"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// mdTopLines is how many source lines the top of a Markdown report may
// take: a ticket shows about that much before one scrolls.
const mdTopLines = 16

// parsedMarkdown is a Markdown report as a CommonMark (GFM) parser reads
// it: its headings, whether it holds raw HTML, and the plain text of its
// top (everything before the first section heading) as rendered.
type parsedMarkdown struct {
	headings []string
	rawHTML  []string
	topText  string
	topLines int
	topTable bool
}

var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

func parseMarkdown(t *testing.T, src []byte) parsedMarkdown {
	t.Helper()
	var p parsedMarkdown
	doc := md.Parser().Parse(text.NewReader(src))
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			p.headings = append(p.headings, fmt.Sprintf("h%d %s", n.Level, inlineText(n, src)))
		case *ast.HTMLBlock, *ast.RawHTML:
			p.rawHTML = append(p.rawHTML, n.Kind().String())
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := md.Convert(src, &out); err != nil {
		t.Fatal(err)
	}
	top, _, _ := strings.Cut(out.String(), "<h2")
	p.topTable = strings.Contains(top, "<table>")
	p.topText = html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(top, " "))
	p.topText = strings.Join(strings.Fields(p.topText), " ")
	srcTop, _, _ := strings.Cut(string(src), "\n## ")
	p.topLines = strings.Count(srcTop, "\n")
	return p
}

// inlineText concatenates the text of a node's inline children.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			b.Write(t.Value(src))
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// checkMarkdownTop asserts the "done when" on a Markdown report: before
// any section heading and within mdTopLines lines, the verdict in one
// sentence, the affected users with their failed-handshake counts, the
// time range, the backends involved, the strongest evidence with its
// tcp.stream filter, and the remedy.
func checkMarkdownTop(t *testing.T, src []byte, r *analyzer.Report) {
	t.Helper()
	p := parseMarkdown(t, src)
	g := newGlance(plainModel(r))
	if len(p.rawHTML) > 0 {
		t.Errorf("the Markdown holds raw HTML (%v): wire text must be escaped", p.rawHTML)
	}
	if len(p.headings) == 0 || p.headings[0] != "h1 NTLM diagnosis: "+g.Title {
		t.Errorf("first heading %v, want the verdict", p.headings)
	}
	if p.topLines > mdTopLines {
		t.Errorf("the top takes %d lines, want at most %d", p.topLines, mdTopLines)
	}
	if !p.topTable {
		t.Error("the top has no summary table")
	}
	want := []string{"Verdict: " + g.Title + ".", "Time range " + g.Range, "Backends involved", "Strongest evidence"}
	for _, u := range g.Affected {
		if g.AnyFailed {
			want = append(want, fmt.Sprintf("%s: %d of %s failed", u.Name, u.Failed+u.Abandoned, plural(u.Handshakes, "handshake")))
		}
	}
	for _, b := range g.Backends {
		if b.Identity != "" {
			want = append(want, b.Identity)
		}
	}
	if g.Evidence != nil {
		want = append(want, g.Evidence.Code)
		if g.Filter != "" {
			want = append(want, "Wireshark filter "+g.Filter)
		}
	}
	if len(r.Verdict.Remedies) > 0 {
		want = append(want, "Remedy "+r.Verdict.Remedies[0])
	}
	for _, w := range want {
		if !strings.Contains(p.topText, w) {
			t.Errorf("the top of the Markdown does not show %q:\n%s", w, p.topText)
		}
	}
}

// TestMarkdownIsTicketReady parses every fixture's Markdown with a
// CommonMark parser: the top shows what to act on, the sections follow.
func TestMarkdownIsTicketReady(t *testing.T) {
	for name, f := range fixtures() {
		t.Run(name, func(t *testing.T) {
			r := f()
			src := render(t, "markdown", Options{}, r)
			checkMarkdownTop(t, src, r)
			p := parseMarkdown(t, src)
			need := []string{"h2 Evidence", "h2 Capture"}
			if len(r.Verdict.Remedies) > 0 {
				need = append(need, "h2 What to do")
			}
			if len(r.Users) > 0 {
				need = append(need, "h2 Users")
			}
			for _, h := range need {
				if !strings.Contains(strings.Join(p.headings, "\n"), h) {
					t.Errorf("no %q section in %v", h, p.headings)
				}
			}
		})
	}
	for _, c := range labCaptures("scenario3-*.pcap*") {
		t.Run(filepath.Base(c), func(t *testing.T) {
			r := analyze(t, c)
			if r.Verdict.Code != analyzer.VerdictBalancer {
				t.Logf("verdict %s (the lab meant a broken balancer)", r.Verdict.Code)
			}
			checkMarkdownTop(t, render(t, "markdown", Options{}, r), r)
		})
	}
}

// TestMDTextRoundTrips: wire text escaped by mdText reads back, after a
// CommonMark parser renders it in a table cell, exactly as written.
func TestMDTextRoundTrips(t *testing.T) {
	for _, s := range []string{
		`CORP\alice`, `EVIL\<script>alert(1)</script>`, "*admin*", "_x_", "AUTH_FAILED", `a\*b`, `end\`,
		"[click](javascript:alert(1))", "a | b", "`code`", "~~strike~~", "&amp; &lt;", "![img](x)",
		"<https://example.com>", "user@example.com", "100% <sure>", `\\server\share`, "x_", "_",
	} {
		var out bytes.Buffer
		if err := md.Convert([]byte("| a |\n|---|\n| "+mdText(s)+" |\n"), &out); err != nil {
			t.Fatal(err)
		}
		cell, _, _ := strings.Cut(out.String(), "</td>")
		_, cell, _ = strings.Cut(cell, "<td>")
		// GFM autolinks user@realm and www. names: a link, same text.
		cell = regexp.MustCompile(`<a href="(mailto:|https?:)[^"]*">`).ReplaceAllString(cell, "")
		cell = strings.ReplaceAll(cell, "</a>", "")
		if got := html.UnescapeString(cell); got != s {
			t.Errorf("mdText(%q) = %q reads back as %q", s, mdText(s), got)
		}
	}
}
