package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// This file holds the small text helpers every human-readable format
// shares, so that a filter or a time reads the same in the terminal, the
// ticket and the HTML page.

// timeLayout is RFC 3339 in UTC with milliseconds: what a person compares
// with Wireshark's absolute time column (the JSON keeps nanoseconds).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// timeText formats a capture time; a zero time was not captured.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "not captured"
	}
	return t.UTC().Format(timeLayout)
}

// rangeText formats a time range with its length.
func rangeText(from, to time.Time) string {
	if from.IsZero() {
		return "no packets"
	}
	return seenText(from, to) + " (" + durationText(to.Sub(from)) + ")"
}

// durationText writes a duration the way people say it: 18 ms, 4.2 s,
// 23 min 44 s, 3 h 5 min.
func durationText(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
}

// failedOf says how many of total handshakes failed or were abandoned,
// naming only what happened: "2 of 5 failed", "1 of 1 abandoned", "3 of 4
// failed or abandoned"; with a noun, "2 of 5 handshakes failed".
func failedOf(failed, abandoned, total int, noun string) string {
	n := strconv.Itoa(failed+abandoned) + " of " + strconv.Itoa(total)
	if noun != "" {
		n = strconv.Itoa(failed+abandoned) + " of " + plural(total, noun)
	}
	switch {
	case abandoned == 0:
		return n + " failed"
	case failed == 0:
		return n + " abandoned"
	}
	return n + " failed or abandoned"
}

// connFile returns the capture connection c is numbered in when the
// report read several (tcp.stream numbers and frames are per file), else
// "": its label in files (see fileLabels).
func connFile(files []string, c *analyzer.Connection) string {
	return fileLabel(files, c.File)
}

// fileLabel returns file's label in files when the report read several,
// else "".
func fileLabel(files []string, file int) string {
	if len(files) < 2 || file < 0 || file >= len(files) {
		return ""
	}
	return files[file]
}

// partsNote returns the tcp.stream filters of the later files c went on
// into (Connection.Parts: a ring buffer's files), each with its file, to
// follow the connection's own: "; tcp.stream eq 0 in b.pcap".
func partsNote(files []string, c *analyzer.Connection) string {
	return partsWith(files, c, plain, plain)
}

// partsWith is partsNote with each filter passed through code and each
// file note through text (Markdown quotes the one and escapes the other).
func partsWith(files []string, c *analyzer.Connection, code, text func(string) string) string {
	var b strings.Builder
	for _, p := range c.Parts {
		b.WriteString("; " + code("tcp.stream eq "+strconv.Itoa(p.TCPStream)) + text(fileNote(fileLabel(files, p.File))))
	}
	return b.String()
}

// plain returns s as it is (partsWith).
func plain(s string) string { return s }

// connFilter returns the Wireshark filter of c's tcp.stream with its file
// when the report read several, and those of the later files it went on
// into.
func connFilter(files []string, c *analyzer.Connection) string {
	return "tcp.stream eq " + strconv.Itoa(c.TCPStream) + fileNote(connFile(files, c)) + partsNote(files, c)
}

// partOf returns where file is among c's files: 0 for its own, i+1 for
// Parts[i], len(Parts)+1 for another.
func partOf(c *analyzer.Connection, file int) int {
	if file == c.File {
		return 0
	}
	for i, p := range c.Parts {
		if p.File == file {
			return i + 1
		}
	}
	return len(c.Parts) + 1
}

// frameFile returns the label of the file a frame of c is numbered in
// (file, from Exchange.RequestFile and the like) when that is not c's own
// file, else "".
func frameFile(files []string, c *analyzer.Connection, file *int) string {
	if file == nil || *file == c.File {
		return ""
	}
	return fileLabel(files, *file)
}

// streamFilter returns a Wireshark display filter for the first max
// streams ("tcp.stream eq 3 || tcp.stream eq 7") and how many it left out.
// The filter is always complete for the streams it names, so it can be
// pasted as is.
func streamFilter(streams []int, max int) (string, int) {
	n := min(len(streams), max)
	parts := make([]string, n)
	for i := range n {
		parts[i] = "tcp.stream eq " + strconv.Itoa(streams[i])
	}
	return strings.Join(parts, " || "), len(streams) - n
}

// evidenceWhere returns the Wireshark filter for the first max streams of
// a finding, how many streams it left out, and the capture file they are
// numbered in when the report read several (tcp.stream numbers are per
// file). Evidence that spans several captures is grouped per file:
// "tcp.stream eq 1 || tcp.stream eq 2 in client.pcap; tcp.stream eq 7 in
// upstream.pcap", and file is "".
func evidenceWhere(files []string, f *analyzer.Finding, max int) (filter string, left int, file string) {
	if len(files) < 2 || len(f.StreamFiles) != len(f.TCPStreams) {
		filter, left = streamFilter(f.TCPStreams, max)
		return filter, left, ""
	}
	if len(f.Files) == 1 {
		filter, left = streamFilter(f.TCPStreams, max)
		return filter, left, fileName(files, f.Files[0])
	}
	n := min(len(f.TCPStreams), max)
	filter = perFile(files, f.StreamFiles[:n], " || ", func(i int) string { return "tcp.stream eq " + strconv.Itoa(f.TCPStreams[i]) })
	return filter, len(f.TCPStreams) - n, ""
}

// perFile joins items per capture file, in order of each file's first
// item: "a, b in client.pcap; c in upstream.pcap". fileOf[i] indexes
// files for item(i); sep joins one file's items.
func perFile(files []string, fileOf []int, sep string, item func(i int) string) string {
	var order []int
	groups := map[int][]string{}
	for i, fi := range fileOf {
		if _, ok := groups[fi]; !ok {
			order = append(order, fi)
		}
		groups[fi] = append(groups[fi], item(i))
	}
	parts := make([]string, 0, len(order))
	for _, fi := range order {
		parts = append(parts, strings.Join(groups[fi], sep)+" in "+fileName(files, fi))
	}
	return strings.Join(parts, "; ")
}

// fileName returns files[i], or "?" when i indexes none.
func fileName(files []string, i int) string {
	if i >= 0 && i < len(files) {
		return files[i]
	}
	return "?"
}

// findingFrames lists the first max frames of f as frameList does; when
// its evidence spans several captures, per capture (frames are per file):
// "7, 8 in client.pcap; 21, 23 in upstream.pcap". labels names the files
// (see analyzer.FileLabels).
func findingFrames(labels []string, f *analyzer.Finding, max int) string {
	if len(labels) < 2 || len(f.Files) < 2 || len(f.FrameFiles) != len(f.Frames) {
		return frameList(f.Frames, max)
	}
	n := min(len(f.Frames), max)
	frames := perFile(labels, f.FrameFiles[:n], ", ", func(i int) string { return strconv.FormatInt(f.Frames[i], 10) })
	return frames + more(len(f.Frames)-n)
}

// frameList lists the first max frame numbers, saying how many more
// there are.
func frameList(frames []int64, max int) string {
	n := min(len(frames), max)
	parts := make([]string, 0, n)
	for _, f := range frames[:n] {
		parts = append(parts, strconv.FormatInt(f, 10))
	}
	return strings.Join(parts, ", ") + more(len(frames)-n)
}

// intList joins ids (connection ids) for a table cell.
func intList(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

// more writes " (+N more)" for lists cut short.
func more(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" (+%d more)", n)
}

// seenText writes when something was seen, compactly: the end repeats
// only the time of day when both fall on the same day.
func seenText(from, to time.Time) string {
	if from.IsZero() {
		return "not captured"
	}
	from, to = from.UTC(), to.UTC()
	if to.IsZero() || to.Equal(from) {
		return from.Format(timeLayout)
	}
	end := to.Format(timeLayout)
	if from.Format(time.DateOnly) == to.Format(time.DateOnly) {
		end = to.Format("15:04:05.000Z07:00")
	}
	return from.Format(timeLayout) + " – " + end
}

// severityRank orders severities, least serious first; unknown ones rank
// below info.
func severityRank(s string) int {
	switch s {
	case analyzer.SeverityInfo:
		return 1
	case analyzer.SeverityWarning:
		return 2
	case analyzer.SeverityError:
		return 3
	case analyzer.SeverityCritical:
		return 4
	}
	return 0
}

// sanitize escapes control characters in text that came off the wire
// (user, host and path names) so that it cannot drive a terminal or break
// a Markdown line.
func sanitize(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !isControl(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

// isControl: C0, DEL and C1 controls, and the Unicode bidirectional
// overrides that can make a terminal line read differently from its bytes.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// plural writes "1 handshake" or "3 handshakes".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// clip shortens s to at most n runes, ending with "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// lostText lists the ways the capture lost evidence, zeros left out: a
// reader weighs the verdict by it.
func lostText(s analyzer.Source) string {
	var parts []string
	for _, c := range []struct {
		n         int64
		one, many string
	}{
		{s.Gaps, "gap", "gaps"},
		{s.KernelDrops, "kernel drop", "kernel drops"},
		{s.EvictedConnections, "evicted connection", "evicted connections"},
		{s.MidstreamConnections, "connection started before the capture", "connections started before the capture"},
		{s.Truncated, "truncated segment", "truncated segments"},
		{s.TLSWithoutKeys, "TLS connection without keys", "TLS connections without keys"},
	} {
		switch {
		case c.n == 1:
			parts = append(parts, "1 "+c.one)
		case c.n > 1:
			parts = append(parts, strconv.FormatInt(c.n, 10)+" "+c.many)
		}
	}
	return strings.Join(parts, ", ")
}

// stateText is a connection's state as the tables write it, with what its
// TLS or CONNECT tunnel was to ntlmscope: a proxy connection whose tunnel
// carried TLS without keys shows the proxy's handshake and never the
// server's, and the reader should see why ("authenticated; TLS tunnel, no
// keys").
func stateText(c *analyzer.Connection) string {
	if t := transportText(c.Tunnel, c.Decrypted); t != "" {
		return c.State + "; " + t
	}
	return c.State
}

// transportText says what a connection's bytes were beyond plain HTTP:
// its CONNECT tunnel's contents (analyzer.Connection.Tunnel) and whether
// its TLS was decrypted; "" for plain HTTP.
func transportText(tunnel string, decrypted bool) string {
	switch tunnel {
	case "":
		if decrypted {
			return "TLS, decrypted"
		}
		return ""
	case "tls":
		if decrypted {
			return "TLS tunnel, decrypted"
		}
		return "TLS tunnel, no keys"
	case "http/1.1":
		return "HTTP tunnel"
	case "http/2":
		return "HTTP/2 tunnel, not read"
	}
	return "tunnel, not HTTP"
}
