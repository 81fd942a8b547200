package report

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// RecordLiveFinding is the "type" of the records a live capture streams
// while it runs, before the final report's records (see [LiveWriter]).
const RecordLiveFinding = "live_finding"

// LiveWriter writes the findings of a live capture as it detects them,
// before the final report exists: a "live_finding" NDJSON record each
// (one JSON object per line, "type" first, then the members of an
// [analyzer.Finding], as in a "finding" record), and, for a terminal, one
// plain line each ([LiveLine]). A live_finding is provisional: the final
// report, written when the capture stops, holds the findings as they
// stand then (a cause may change with later evidence, and counts grow).
// Its records of the usual types follow the live ones in the same
// stream; nothing of the final report is written twice.
//
// The writer applies the sharing rules of its [Options] as the report
// does, with the same pseudonyms for the same key. Methods must not be
// called concurrently.
type LiveWriter struct {
	w     io.Writer // nil: no records
	scrub *scrubber
	buf   bytes.Buffer
	err   error
}

// NewLiveWriter returns a writer of live_finding records to w, or of no
// records when w is nil (Write then only applies the sharing rules, for
// the terminal lines).
func NewLiveWriter(w io.Writer, opts Options) *LiveWriter {
	return &LiveWriter{w: w, scrub: newScrubber(opts)}
}

// Write writes a live_finding record for each finding of snap, a report
// of what was detected so far ([analyzer.Analyzer.Snapshot]) whose
// Findings the caller cut down to those not written before. It returns
// them as written, the sharing rules applied. The names snap's users and
// backends carry are learnt first, so that a message quoting one (a
// server identity, a workstation) quotes its pseudonym. snap's
// connections, if any, are not read. After the first write error every
// call returns it.
func (l *LiveWriter) Write(snap *analyzer.Report) ([]analyzer.Finding, error) {
	top := &analyzer.Report{Users: snap.Users, Backends: snap.Backends, Findings: snap.Findings}
	if l.scrub.anon != nil {
		l.scrub.learn(top)
	}
	fs := l.scrub.top(top).Findings
	if l.scrub.anon == nil {
		fs = slices.Clone(fs) // top shares the caller's list
	}
	if l.w == nil || l.err != nil {
		return fs, l.err
	}
	for _, f := range fs {
		l.buf.Reset()
		enc := json.NewEncoder(&l.buf)
		enc.SetEscapeHTML(false)
		if l.err = enc.Encode(struct {
			Type string `json:"type"`
			analyzer.Finding
		}{RecordLiveFinding, f}); l.err != nil {
			break
		}
		// One write per record: a reader of a pipe sees whole lines.
		if _, l.err = l.w.Write(l.buf.Bytes()); l.err != nil {
			break
		}
	}
	return fs, l.err
}

// LiveLine formats a finding as one plain line for a terminal or a log:
// its time (the capture's, UTC), severity, code and message, then the
// Wireshark filter of its TCP streams. Control characters in the message
// (it quotes names that came off the wire) are escaped. There is no
// newline at the end.
func LiveLine(f analyzer.Finding) string {
	line := timeText(f.Time) + " " + f.Severity + " " + f.Code + ": " + sanitize(f.Message)
	if filter, left := streamFilter(f.TCPStreams, glanceStreams); filter != "" {
		// A live capture reads one interface: no file to name.
		line += " (" + filter + more(left) + ")"
	}
	return line
}
