package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// tableRenderer writes the report for a person at a terminal: the verdict
// in one sentence first, the facts that back it, what to do, then the
// users, the connections with findings (every connection with Verbose) and
// the findings, drawn with tablewriter.
type tableRenderer struct {
	opts Options
}

// cellWidth is where long cells (messages, filters) wrap, so that the
// widest table stays near 160 columns.
const cellWidth = 48

func (t tableRenderer) render(w io.Writer, r *model) error {
	// tablewriter writes a line at a time: a capture with thousands of
	// findings makes hundreds of thousands of lines.
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := t.write(bw, r); err != nil {
		return err
	}
	return bw.Flush()
}

func (t tableRenderer) write(w io.Writer, r *model) error {
	p := &printer{w: w, color: t.opts.Color}
	var g glance
	var v tableView
	r.alongside(func() { g = newGlance(r) }, func() { v = newTableView(r, t.opts) })
	p.line(p.paint(verdictColor(r.Verdict.Code), sanitize(g.Title)+"."))
	if g.Explanation != "" {
		p.line(sanitize(g.Explanation))
	}
	p.line("")
	p.fact("Capture", fmt.Sprintf("%s, %d packets, %s", g.Range, r.Source.Packets, plural(len(r.Source.Files), "file")))
	if lost := lostText(r.Source); lost != "" {
		p.fact("Lost", lost)
	}
	s := r.Summary
	p.fact("Handshakes", fmt.Sprintf("%d: %d succeeded, %d failed, %d abandoned, %d incomplete; %d split across connections; %d HTTP requests on %s",
		s.Handshakes, s.HandshakesSucceeded, s.HandshakesFailed, s.HandshakesAbandoned, s.HandshakesIncomplete,
		s.HandshakesSplit, s.HTTPRequests, plural(s.Connections, "connection")))
	if len(g.Affected) > 0 && g.AnyFailed {
		parts := make([]string, 0, len(g.Affected))
		for _, u := range g.Affected {
			parts = append(parts, sanitize(u.Name)+" ("+failedOf(u.Failed, u.Abandoned, u.Handshakes, "")+")")
		}
		p.fact("Affected", strings.Join(parts, ", ")+more(g.AffectedMore))
	}
	if len(g.Backends) > 0 {
		parts := make([]string, 0, len(g.Backends))
		for _, b := range g.Backends {
			parts = append(parts, sanitize(backendText(b)))
		}
		p.fact("Backends", strings.Join(parts, "; ")+more(g.BackendsMore))
	}
	if f := g.Evidence; f != nil {
		p.fact("Evidence", fmt.Sprintf("%s %s: %s", p.severity(f.Severity), f.Code, sanitize(f.Message)))
		if g.Filter != "" {
			p.fact("", "Wireshark: "+g.Filter+more(g.FilterMore)+fileNote(g.File)+framesNote(g.labels, f))
		}
	}
	if len(g.Remedies) > 0 {
		p.line("")
		p.line(p.paint(ansiBold, "What to do:"))
		for i, rem := range g.Remedies {
			p.line(fmt.Sprintf("  %d. %s", i+1, sanitize(rem)))
		}
	}
	if p.err != nil {
		return p.err
	}
	for _, section := range []func(*printer, tableView) error{usersTable, connectionsTable, findingsTable} {
		if err := section(p, v); err != nil {
			return err
		}
	}
	return p.err
}

func usersTable(p *printer, v tableView) error {
	if len(v.users) == 0 {
		return p.err
	}
	p.line("")
	title := "Users"
	if v.usersOmitted > 0 {
		title = fmt.Sprintf("Users (the %d of %d with the most failed or abandoned handshakes)", len(v.users), len(v.users)+v.usersOmitted)
	}
	p.line(p.paint(ansiBold, title+v.note))
	tbl := newTable(p.w)
	tbl.Header("User", "Clients", "Handshakes", "OK", "Failed", "Abandoned", "Restarts", "Requests", "Connection ids")
	for _, u := range v.users {
		failed := strconv.Itoa(u.Failed)
		if u.Failed > 0 {
			failed = p.paint(ansiRed, failed)
		}
		clients := u.Clients[:min(len(u.Clients), limit(tableMaxClients, v.full))]
		ids := headInts(u.ConnectionIDs, limit(tableMaxIDs, v.full))
		if err := tbl.Append(sanitize(u.Name), sanitize(strings.Join(clients, " "))+more(len(u.Clients)-len(clients)),
			strconv.Itoa(u.Handshakes), strconv.Itoa(u.Succeeded), failed, strconv.Itoa(u.Abandoned),
			strconv.Itoa(u.Restarts), strconv.Itoa(u.Requests), intList(ids)+more(len(u.ConnectionIDs)-len(ids))); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	omitted(p, v.usersOmitted, "user")
	return p.err
}

// omitted says how many rows a table left out, and how to see them.
func omitted(p *printer, n int, what string) {
	if n <= 0 {
		return
	}
	if n > 1 {
		what += "s"
	}
	p.line(fmt.Sprintf("... and %d more %s (--verbose lists every one; --format json has everything)", n, what))
}

func connectionsTable(p *printer, v tableView) error {
	if len(v.conns) == 0 {
		return p.err
	}
	title := "Connections with findings"
	if v.verbose {
		title = "Connections"
	}
	p.line("")
	p.line(p.paint(ansiBold, title+v.note))
	tbl := newTable(p.w)
	tbl.Header("ID", "Filter", "Client", "Server", "Users", "State", "Handshakes", "Requests", "Findings")
	for _, row := range v.conns {
		if err := tbl.Append(row); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	omitted(p, v.connsOmitted, "connection")
	return p.err
}

func findingsTable(p *printer, v tableView) error {
	if len(v.findings.Rows) == 0 {
		return p.err
	}
	p.line("")
	p.line(p.paint(ansiBold, "Findings"+v.note))
	tbl := newTable(p.w)
	tbl.Header("Severity", "Code", "Count", "Wireshark filter and frames", "What happened")
	for _, f := range v.findings.Rows {
		filter, left, file := evidenceWhere(v.files, &f, glanceStreams)
		where := filter + more(left) + fileNote(file)
		if len(f.Frames) > 0 {
			where += "\nframes " + findingFrames(v.files, &f, 8)
		}
		if err := tbl.Append(p.severity(f.Severity), f.Code, strconv.Itoa(f.Count), where, sanitize(f.Message)); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	for _, c := range v.findings.Cut {
		omitted(p, c.More, c.Code+" finding")
	}
	return p.err
}

// newTable returns a tablewriter table whose long cells wrap.
func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w, tablewriter.WithRowAutoWrap(tw.WrapNormal), tablewriter.WithRowMaxWidth(cellWidth))
}

// handshakeCounts summarises a connection's handshakes: "2 (1 ok, 1 failed)".
func handshakeCounts(hs []analyzer.Handshake) string {
	if len(hs) == 0 {
		return "0"
	}
	n := map[string]int{}
	for _, h := range hs {
		n[h.Outcome]++
	}
	var parts []string
	for _, o := range []string{analyzer.OutcomeSucceeded, analyzer.OutcomeFailed, analyzer.OutcomeAbandoned, analyzer.OutcomeIncomplete} {
		if n[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[o], o))
		}
	}
	return fmt.Sprintf("%d (%s)", len(hs), strings.Join(parts, ", "))
}

// backendText describes a backend in one line.
func backendText(b backendLine) string {
	name := b.Identity
	servers := strings.Join(b.Servers, ", ")
	switch {
	case name == "":
		name = servers + " (no NTLM identity captured)"
	case servers != "":
		name += " (" + servers + ")"
	}
	if b.Handshakes == 0 {
		return name
	}
	return name + ": " + failedOf(b.Failed, b.Aborted, b.Handshakes, "")
}

func fileNote(file string) string {
	if file == "" {
		return ""
	}
	return " in " + sanitize(file)
}

// framesNote lists the frames of f for its Wireshark line (see
// findingFrames).
func framesNote(labels []string, f *analyzer.Finding) string {
	if len(f.Frames) == 0 {
		return ""
	}
	return ", frames " + findingFrames(labels, f, 8)
}
