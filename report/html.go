package report

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// htmlRenderer writes one self-contained HTML file: inline CSS, SVG and a
// few lines of script, nothing fetched (a Content-Security-Policy forbids
// it, so the file works offline, e-mailed, or opened from a ticket). The
// verdict and what a reader must act on fill the first screen; below come
// the user and finding tables, a timeline of all connections, a ladder
// diagram per NTLM connection, and the connection table. html/template
// escapes everything that came off the wire.
//
// Without verbose a large capture's tables are cut to what a browser opens
// comfortably (see htmlMaxConnections and its neighbours), and each cut
// says what it left out; with verbose every row of the tables is listed
// (the timeline and the ladder diagrams stay bounded).
type htmlRenderer struct{ anonymized, verbose bool }

// newHTMLRenderer is the html format's constructor.
func newHTMLRenderer(o Options) renderer {
	return htmlRenderer{anonymized: o.Anonymize, verbose: o.Verbose}
}

//go:embed html/report.tmpl html/style.css html/script.js
var htmlAssets embed.FS

// htmlPage holds the parsed template and its inline assets.
type htmlPage struct {
	tmpl    *template.Template
	css, js string
	// csp allows exactly the inline style and script, by hash, and
	// nothing from anywhere else.
	csp string
}

// htmlAssetsParsed parses the template and hashes the assets the first
// time an HTML report is written, not at every start of the program (most
// runs write no HTML).
var htmlAssetsParsed = sync.OnceValue(func() *htmlPage {
	p := &htmlPage{css: mustAsset("html/style.css"), js: mustAsset("html/script.js")}
	p.csp = "default-src 'none'; style-src '" + cspHash(p.css) + "'; script-src '" + cspHash(p.js) +
		"'; img-src data:; base-uri 'none'; form-action 'none'"
	p.tmpl = template.Must(template.New("report.tmpl").Funcs(htmlFuncs).ParseFS(htmlAssets, "html/report.tmpl"))
	return p
})

// htmlView is what the template reads.
type htmlView struct {
	R              *model
	G              glance
	Tone           string
	Causes         string
	Lost           string
	Anonymized     bool
	Timeline       *timeline
	Ladders        []ladder
	LaddersOmitted int
	// Conns, Findings, Users and MaxUserIDs are the rows of the
	// connection, finding and user tables, cut unless verbose.
	Conns      *htmlConnRows
	Findings   findingCut
	Users      htmlUserRows
	MaxUserIDs int
	CSS        template.CSS
	JS         template.JS
	CSP        string
}

func (h htmlRenderer) render(w io.Writer, r *model) error {
	page := htmlAssetsParsed()
	v := htmlView{
		R:          r,
		Tone:       verdictTone(r.Verdict.Code),
		Causes:     causeText(r.Verdict.Causes),
		Lost:       lostText(r.Source),
		Anonymized: h.anonymized,
		Conns:      newHTMLConnRows(r, h.verbose),
		Findings:   cutPerCode(r.Findings, limit(htmlMaxPerCode, h.verbose)),
		Users:      newHTMLUserRows(r.Users, h.verbose),
		MaxUserIDs: limit(htmlMaxUserIDs, h.verbose),
		CSS:        template.CSS(page.css),
		JS:         template.JS(page.js),
		CSP:        page.csp,
	}
	r.alongside(func() { v.G = newGlance(r) }, func() { v.Timeline = newTimeline(r) },
		func() { v.Ladders, v.LaddersOmitted = ladders(r) })
	// The template writes the connection table as it reads the
	// connections, row by row (v.Conns.Each).
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := page.tmpl.Execute(bw, v); err != nil {
		return err
	}
	return bw.Flush()
}

// verdictTone colours the verdict: bad when something breaks NTLM, ok when
// it works, warn when the capture cannot tell.
func verdictTone(code string) string {
	switch code {
	case analyzer.VerdictHealthy:
		return "ok"
	case analyzer.VerdictInconclusive:
		return "warn"
	case analyzer.VerdictNoNTLM:
		return ""
	}
	return "bad"
}

var htmlFuncs = template.FuncMap{
	"join":          strings.Join,
	"add":           func(a, b int) int { return a + b },
	"plural":        plural,
	"time":          func(t time.Time) string { return timeText(t) },
	"frames":        frameList,
	"failedOf":      failedOf,
	"connFile":      func(labels []string, c *analyzer.Connection) string { return connFile(labels, c) },
	"connParts":     func(labels []string, c *analyzer.Connection) string { return partsNote(labels, c) },
	"findingFrames": func(labels []string, f analyzer.Finding, max int) string { return findingFrames(labels, &f, max) },
	"seen":          seenText,
	"filter": func(streams []int) string {
		f, _ := streamFilter(streams, len(streams))
		return f
	},
	"evidence": func(files []string, f analyzer.Finding) string {
		filter, _, file := evidenceWhere(files, &f, len(f.TCPStreams))
		return filter + fileNote(file)
	},
	"sevrank":  severityRank,
	"hscounts": handshakeCounts,
	"state":    stateText,
	"statuses": statusList,
	"head":     headInts,
	"more":     moreInts,
	// The caps, for the sentences that state them.
	"htmlMaxConnections": func() int { return htmlMaxConnections },
	"htmlMaxPerCode":     func() int { return htmlMaxPerCode },
	"htmlMaxUsers":       func() int { return htmlMaxUsers },
}

func mustAsset(name string) string {
	b, err := htmlAssets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cspHash is the CSP source expression allowing one inline element whose
// text is s.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
