package report

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// CSVTables are the tables the csv format can write (--table).
var CSVTables = []string{"users", "connections", "handshakes", "findings"}

// csvRenderer writes one table of the report as CSV (RFC 4180) with a
// header row. Columns are named as the JSON fields; lists are joined with
// spaces; times are RFC 3339 with nanoseconds, as in the JSON.
type csvRenderer struct{ table string }

func (c csvRenderer) render(w io.Writer, m *model) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	switch c.table {
	case "", "users":
		csvUsers(cw, m)
	case "connections":
		csvConnections(cw, m)
	case "handshakes":
		csvHandshakes(cw, bw, m)
	case "findings":
		csvFindings(cw, m)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// Each table writes its header, then its rows as it makes them; a write
// error is kept by the csv.Writer and reported once by render.

func csvUsers(cw *csv.Writer, m *model) {
	cw.Write([]string{"name", "domain", "user", "workstations", "clients", "handshakes", "succeeded", "failed",
		"abandoned", "incomplete", "restarts", "connections", "connection_ids", "requests", "authenticated_requests",
		"first_seen", "last_seen", "time_in_handshakes_ms"})
	for _, u := range m.Users {
		cw.Write([]string{cell(u.Name), cell(u.Domain), cell(u.User), cells(u.Workstations), cells(u.Clients),
			itoa(u.Handshakes), itoa(u.Succeeded), itoa(u.Failed), itoa(u.Abandoned), itoa(u.Incomplete),
			itoa(u.Restarts), itoa(u.Connections), intList(u.ConnectionIDs), itoa(u.Requests),
			itoa(u.AuthenticatedRequests), csvTime(u.FirstSeen), csvTime(u.LastSeen), csvFloat(u.TimeInHandshakesMs)})
	}
}

func csvConnections(cw *csv.Writer, m *model) {
	cw.Write([]string{"id", "file", "tcp_stream", "wireshark_filter", "client", "server", "real_clients", "leg", "linked",
		"start", "end", "ended", "midstream", "gaps_client", "gaps_server", "requests", "responses", "statuses",
		"users", "state", "authenticated_requests", "handshakes", "handshakes_failed", "findings", "decrypted", "tunnel",
		"parts"})
	for c := range m.eachConnectionBrief() {
		failed := 0
		for _, h := range c.Handshakes {
			if h.Outcome == analyzer.OutcomeFailed || h.Outcome == analyzer.OutcomeAbandoned {
				failed++
			}
		}
		if cw.Write([]string{itoa(c.ID), itoa(c.File), itoa(c.TCPStream), "tcp.stream eq " + itoa(c.TCPStream),
			cell(c.Client), cell(c.Server), cells(c.RealClients), c.Leg, intList(c.Linked), csvTime(c.Start),
			csvTime(c.End), c.Ended, strconv.FormatBool(c.Midstream), itoa(c.Gaps.Client), itoa(c.Gaps.Server),
			itoa(c.Requests), itoa(c.Responses), statusList(c.Statuses), cells(c.Users), c.State,
			itoa(c.AuthenticatedRequests), itoa(len(c.Handshakes)), itoa(failed), strings.Join(c.Findings, " "),
			strconv.FormatBool(c.Decrypted), c.Tunnel, connParts(c.Parts)}) != nil {
			return
		}
	}
}

// csvHandshakes lists every handshake once per leg, by id then client leg
// first: a split handshake appears on each of its connections in the
// model, and connections come in id order, not handshake order. So the
// rows are made in one pass over the connections, kept as encoded CSV
// lines (far smaller than the connections), sorted, and written.
func csvHandshakes(cw *csv.Writer, bw *bufio.Writer, m *model) {
	cw.Write([]string{"id", "upstream", "scheme", "spnego", "proxy", "outcome", "cause", "evidence", "client", "user",
		"domain", "workstation", "server_identity", "ntlm_version", "status", "connections", "type1_frame",
		"type2_frame", "type3_frame", "final_frame", "type1_time", "type2_time", "type3_time", "final_time",
		"duration_ms", "authenticated_requests", "frame_files"})
	type row struct {
		key  handshakeKey
		line string
	}
	var rows []row
	seen := map[handshakeKey]bool{}
	var buf bytes.Buffer
	line := csv.NewWriter(&buf)
	for c := range m.eachConnectionBrief() {
		for _, h := range c.Handshakes {
			k := handshakeKey{h.ID, h.Upstream}
			if seen[k] {
				continue
			}
			seen[k] = true
			buf.Reset()
			line.Write([]string{itoa(h.ID), strconv.FormatBool(h.Upstream), h.Scheme, strconv.FormatBool(h.SPNEGO),
				strconv.FormatBool(h.Proxy), h.Outcome, h.Cause, h.Evidence, cell(h.Client), cell(h.User), cell(h.Domain),
				cell(h.Workstation), cell(h.ServerIdentity), h.NTLMVersion, itoa(h.Status), intList(h.Connections),
				frame(h.Frames.Type1), frame(h.Frames.Type2), frame(h.Frames.Type3), frame(h.Frames.Final),
				csvTime(h.Times.Type1), csvTime(h.Times.Type2), csvTime(h.Times.Type3), csvTime(h.Times.Final),
				csvFloat(h.DurationMs), itoa(h.AuthenticatedRequests), frameFiles(h.FrameFiles)})
			line.Flush()
			rows = append(rows, row{k, buf.String()})
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.key.id, b.key.id), compareBool(a.key.upstream, b.key.upstream))
	})
	// cw writes to bw through a buffer of its own: flush it before
	// writing the encoded lines beside it.
	cw.Flush()
	for _, r := range rows {
		if _, err := bw.WriteString(r.line); err != nil {
			return
		}
	}
}

func csvFindings(cw *csv.Writer, m *model) {
	cw.Write([]string{"time", "severity", "code", "title", "count", "connections", "tcp_streams", "wireshark_filter",
		"frames", "users", "message", "stream_files", "frame_files"})
	for _, f := range m.Findings {
		filter, _, file := evidenceWhere(m.Source.Files, &f, len(f.TCPStreams))
		filter += fileNote(file)
		frames := make([]string, len(f.Frames))
		for i, fr := range f.Frames {
			frames[i] = frame(fr)
		}
		cw.Write([]string{csvTime(f.Time), f.Severity, f.Code, f.Title, itoa(f.Count), intList(f.Connections),
			intList(f.TCPStreams), filter, strings.Join(frames, " "), cells(f.Users), cell(f.Message), intList(f.StreamFiles), intList(f.FrameFiles)})
	}
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// cell makes a value from the wire safe for a spreadsheet: control
// characters escaped, and a leading = + - @ (which Excel and LibreOffice
// would run as a formula) defused with a quote.
func cell(s string) string {
	s = sanitize(s)
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// cells joins a list of wire values with spaces.
func cells(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = sanitize(s)
	}
	return cell(strings.Join(out, " "))
}

// statusList writes a status histogram as "200:3 401:2", codes ascending.
func statusList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + itoa(m[k])
	}
	return strings.Join(parts, " ")
}

// csvTime writes a capture time as the JSON does; empty when not captured.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// frame writes a frame number; empty when the step was not captured.
func frame(f int64) string {
	if f == 0 {
		return ""
	}
	return strconv.FormatInt(f, 10)
}

func csvFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// frameFiles lists the files a handshake's four frames are numbered in
// (Handshake.FrameFiles), "" when they are in their connections' files.
func frameFiles(ff *analyzer.HandshakeFiles) string {
	if ff == nil {
		return ""
	}
	return intList([]int{ff.Type1, ff.Type2, ff.Type3, ff.Final})
}

// connParts lists the later files a connection went on into, each as
// "FILE:TCP_STREAM" (file indexes source files), "" when none.
func connParts(parts []analyzer.ConnectionPart) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(itoa(p.File) + ":" + itoa(p.TCPStream))
	}
	return b.String()
}
