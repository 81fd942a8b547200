package report

import (
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

func (c csvRenderer) Render(w io.Writer, r *analyzer.Report) error {
	var header []string
	var rows [][]string
	switch c.table {
	case "", "users":
		header, rows = csvUsers(r)
	case "connections":
		header, rows = csvConnections(r)
	case "handshakes":
		header, rows = csvHandshakes(r)
	case "findings":
		header, rows = csvFindings(r)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func csvUsers(r *analyzer.Report) ([]string, [][]string) {
	header := []string{"name", "domain", "user", "workstations", "clients", "handshakes", "succeeded", "failed",
		"abandoned", "incomplete", "restarts", "connections", "connection_ids", "requests", "authenticated_requests",
		"first_seen", "last_seen", "time_in_handshakes_ms"}
	rows := make([][]string, 0, len(r.Users))
	for _, u := range r.Users {
		rows = append(rows, []string{cell(u.Name), cell(u.Domain), cell(u.User), cells(u.Workstations), cells(u.Clients),
			itoa(u.Handshakes), itoa(u.Succeeded), itoa(u.Failed), itoa(u.Abandoned), itoa(u.Incomplete),
			itoa(u.Restarts), itoa(u.Connections), intList(u.ConnectionIDs), itoa(u.Requests),
			itoa(u.AuthenticatedRequests), csvTime(u.FirstSeen), csvTime(u.LastSeen), csvFloat(u.TimeInHandshakesMs)})
	}
	return header, rows
}

func csvConnections(r *analyzer.Report) ([]string, [][]string) {
	header := []string{"id", "file", "tcp_stream", "wireshark_filter", "client", "server", "real_clients", "leg", "linked",
		"start", "end", "ended", "midstream", "gaps_client", "gaps_server", "requests", "responses", "statuses",
		"users", "state", "authenticated_requests", "handshakes", "handshakes_failed", "findings"}
	rows := make([][]string, 0, len(r.Connections))
	for _, c := range r.Connections {
		failed := 0
		for _, h := range c.Handshakes {
			if h.Outcome == analyzer.OutcomeFailed || h.Outcome == analyzer.OutcomeAbandoned {
				failed++
			}
		}
		rows = append(rows, []string{itoa(c.ID), itoa(c.File), itoa(c.TCPStream), "tcp.stream eq " + itoa(c.TCPStream),
			cell(c.Client), cell(c.Server), cells(c.RealClients), c.Leg, intList(c.Linked), csvTime(c.Start),
			csvTime(c.End), c.Ended, strconv.FormatBool(c.Midstream), itoa(c.Gaps.Client), itoa(c.Gaps.Server),
			itoa(c.Requests), itoa(c.Responses), statusList(c.Statuses), cells(c.Users), c.State,
			itoa(c.AuthenticatedRequests), itoa(len(c.Handshakes)), itoa(failed), strings.Join(c.Findings, " ")})
	}
	return header, rows
}

func csvHandshakes(r *analyzer.Report) ([]string, [][]string) {
	header := []string{"id", "upstream", "scheme", "spnego", "proxy", "outcome", "cause", "evidence", "client", "user",
		"domain", "workstation", "server_identity", "ntlm_version", "status", "connections", "type1_frame",
		"type2_frame", "type3_frame", "final_frame", "type1_time", "type2_time", "type3_time", "final_time",
		"duration_ms", "authenticated_requests"}
	var rows [][]string
	for _, h := range allHandshakes(r) {
		rows = append(rows, []string{itoa(h.ID), strconv.FormatBool(h.Upstream), h.Scheme, strconv.FormatBool(h.SPNEGO),
			strconv.FormatBool(h.Proxy), h.Outcome, h.Cause, h.Evidence, cell(h.Client), cell(h.User), cell(h.Domain),
			cell(h.Workstation), cell(h.ServerIdentity), h.NTLMVersion, itoa(h.Status), intList(h.Connections),
			frame(h.Frames.Type1), frame(h.Frames.Type2), frame(h.Frames.Type3), frame(h.Frames.Final),
			csvTime(h.Times.Type1), csvTime(h.Times.Type2), csvTime(h.Times.Type3), csvTime(h.Times.Final),
			csvFloat(h.DurationMs), itoa(h.AuthenticatedRequests)})
	}
	return header, rows
}

func csvFindings(r *analyzer.Report) ([]string, [][]string) {
	header := []string{"time", "severity", "code", "title", "count", "connections", "tcp_streams", "wireshark_filter",
		"frames", "users", "message"}
	rows := make([][]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		filter, _ := streamFilter(f.TCPStreams, len(f.TCPStreams))
		frames := make([]string, len(f.Frames))
		for i, fr := range f.Frames {
			frames[i] = frame(fr)
		}
		rows = append(rows, []string{csvTime(f.Time), f.Severity, f.Code, f.Title, itoa(f.Count), intList(f.Connections),
			intList(f.TCPStreams), filter, strings.Join(frames, " "), cells(f.Users), cell(f.Message)})
	}
	return header, rows
}

// allHandshakes lists every handshake once per leg, by id: a split
// handshake appears on each of its connections in the model.
func allHandshakes(r *analyzer.Report) []analyzer.Handshake {
	seen := map[handshakeKey]bool{}
	var out []analyzer.Handshake
	for _, c := range r.Connections {
		for _, h := range c.Handshakes {
			if k := (handshakeKey{h.ID, h.Upstream}); !seen[k] {
				seen[k] = true
				out = append(out, h)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b analyzer.Handshake) int {
		if a.ID != b.ID {
			return a.ID - b.ID
		}
		if a.Upstream == b.Upstream {
			return 0
		}
		if a.Upstream {
			return 1
		}
		return -1
	})
	return out
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
