package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// tableRenderer writes the report for a person at a terminal: the verdict
// in one sentence first, then the users and the connections with findings.
type tableRenderer struct {
	opts Options
}

func (t tableRenderer) Render(w io.Writer, r *analyzer.Report) error {
	ew := &errWriter{w: w}
	ew.printf("%s\n", t.bold(sanitize(r.Verdict.Title)))
	if r.Verdict.Explanation != "" {
		ew.printf("%s\n", sanitize(r.Verdict.Explanation))
	}
	s := r.Summary
	ew.printf("\n%d HTTP connections, %d NTLM handshakes: %d succeeded, %d failed, %d abandoned, %d incomplete; %d Kerberos exchanges.\n",
		s.Connections, s.Handshakes, s.HandshakesSucceeded, s.HandshakesFailed, s.HandshakesAbandoned, s.HandshakesIncomplete, s.KerberosExchanges)
	if !r.Source.FirstSeen.IsZero() {
		ew.printf("Capture: %s to %s, %d packets.\n", r.Source.FirstSeen.Format(time.RFC3339), r.Source.LastSeen.Format(time.RFC3339), r.Source.Packets)
	}
	if len(r.Verdict.Remedies) > 0 {
		ew.printf("\nWhat to do:\n")
		for _, rem := range r.Verdict.Remedies {
			ew.printf("  - %s\n", sanitize(rem))
		}
	}
	if ew.err != nil {
		return ew.err
	}
	if len(r.Users) > 0 {
		ew.printf("\nUsers:\n")
		tbl := tablewriter.NewWriter(w)
		tbl.Header("User", "Clients", "Handshakes", "OK", "Failed", "Abandoned", "Restarts", "Requests")
		for _, u := range r.Users {
			if err := tbl.Append(sanitize(u.Name), sanitize(strings.Join(u.Clients, " ")), strconv.Itoa(u.Handshakes), strconv.Itoa(u.Succeeded),
				strconv.Itoa(u.Failed), strconv.Itoa(u.Abandoned), strconv.Itoa(u.Restarts), strconv.Itoa(u.Requests)); err != nil {
				return err
			}
		}
		if err := tbl.Render(); err != nil {
			return err
		}
	}
	if len(r.Findings) > 0 {
		ew.printf("\nFindings:\n")
		tbl := tablewriter.NewWriter(w)
		tbl.Header("Severity", "Code", "Wireshark filter", "Frames", "What happened")
		for _, f := range r.Findings {
			if err := tbl.Append(f.Severity, f.Code, streamFilter(f.TCPStreams), frameList(f.Frames), sanitize(f.Message)); err != nil {
				return err
			}
		}
		if err := tbl.Render(); err != nil {
			return err
		}
	}
	return ew.err
}

func (t tableRenderer) bold(s string) string {
	if !t.opts.Color {
		return s
	}
	return "\x1b[1m" + s + "\x1b[0m"
}

// streamFilter returns a Wireshark display filter for the streams.
func streamFilter(streams []int) string {
	if len(streams) == 0 {
		return ""
	}
	parts := make([]string, 0, len(streams))
	for i, s := range streams {
		if i == 4 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, "tcp.stream eq "+strconv.Itoa(s))
	}
	return strings.Join(parts, " || ")
}

func frameList(frames []int64) string {
	parts := make([]string, 0, len(frames))
	for i, f := range frames {
		if i == 6 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, strconv.FormatInt(f, 10))
	}
	return strings.Join(parts, ",")
}

// sanitize escapes control characters in text that came off the wire
// (user names, host names) so it cannot drive the terminal.
func sanitize(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// errWriter remembers the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
