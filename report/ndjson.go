package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"slices"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// NDJSON record types: the "type" member of every line.
const (
	RecordConnection = "connection"
	RecordHandshake  = "handshake"
	RecordFinding    = "finding"
	RecordUser       = "user"
	RecordSummary    = "summary"
)

// NDJSONWriter writes the report as newline-delimited JSON, one record per
// line, for jq, Elastic, Splunk or Loki. Every line is one JSON object whose
// first member is "type" and whose other members are those of the model
// type it carries (same names as in the JSON format):
//
//   - connection: an [analyzer.Connection] without its handshakes and
//     exchanges; "handshake_ids" lists the ids of its handshakes instead.
//   - handshake: an [analyzer.Handshake], written once per handshake even
//     when it crossed several connections ("connections" lists them).
//   - finding: an [analyzer.Finding].
//   - user: an [analyzer.User].
//   - summary: "schema", "tool", "source", "summary", "verdict" and
//     "backends" of the [analyzer.Report], always the last line.
//
// Records can be written one at a time as they happen (the live capture
// streams connections and handshakes as they end), or all at once with
// Report. The writer applies the sharing rules of its [Options] to every
// record: queries dropped, names pseudonymized consistently over the whole
// stream (a name a finding's message quotes is replaced when an earlier
// record or the finding's own users named it). Methods must not be called
// concurrently. After the first write error every method returns it.
type NDJSONWriter struct {
	w     io.Writer
	scrub *scrubber
	// seen remembers the handshakes written, by id and leg, so a split
	// handshake is one record.
	seen map[handshakeKey]bool
	buf  bytes.Buffer // reused by write
	// enc writes the connection and handshake records, most of the
	// lines, by hand (see jsonEnc); encoding/json the others.
	enc jsonEnc
	err error
}

type handshakeKey struct {
	id       int
	upstream bool
}

// NewNDJSONWriter returns a writer of NDJSON records to w. The zero Options
// drop query strings and anonymize nothing.
func NewNDJSONWriter(w io.Writer, opts Options) *NDJSONWriter {
	return &NDJSONWriter{w: w, scrub: newScrubber(opts), seen: map[handshakeKey]bool{}}
}

// Connection writes a connection record, then a record for each of its
// handshakes not written before.
func (n *NDJSONWriter) Connection(c analyzer.Connection) error {
	c = copyConnection(c)
	n.scrub.connection(&c)
	return n.connection(&c)
}

// connection writes an already scrubbed connection, which it may change.
func (n *NDJSONWriter) connection(c *analyzer.Connection) error {
	hs := c.Handshakes
	dropExchanges(c)
	if n.err == nil {
		n.enc.reset(false, 0)
		n.enc.connectionRecord(c)
		n.writeEnc()
	}
	for i := range hs {
		n.handshake(&hs[i])
	}
	return n.err
}

// Handshake writes a handshake record unless a record of the same
// handshake (id and leg) was written before.
func (n *NDJSONWriter) Handshake(h analyzer.Handshake) error {
	h = copyHandshake(h)
	n.scrub.handshake(&h)
	n.handshake(&h)
	return n.err
}

// handshake writes an already scrubbed handshake.
func (n *NDJSONWriter) handshake(h *analyzer.Handshake) {
	k := handshakeKey{h.ID, h.Upstream}
	if n.seen[k] {
		return
	}
	n.seen[k] = true
	if n.err == nil {
		n.enc.reset(false, 0)
		n.enc.handshakeRecord(h)
		n.writeEnc()
	}
}

// Finding writes a finding record.
func (n *NDJSONWriter) Finding(f analyzer.Finding) error {
	f.Users = slices.Clone(f.Users)
	n.scrub.finding(&f)
	n.write(struct {
		Type string `json:"type"`
		analyzer.Finding
	}{RecordFinding, f})
	return n.err
}

// User writes a user record.
func (n *NDJSONWriter) User(u analyzer.User) error {
	u.Workstations = slices.Clone(u.Workstations)
	u.Clients = slices.Clone(u.Clients)
	n.scrub.user(&u)
	n.write(struct {
		Type string `json:"type"`
		analyzer.User
	}{RecordUser, u})
	return n.err
}

// summaryRecord is the last line: the report without its lists of
// connections, findings and users (those have their own lines).
type summaryRecord struct {
	Type     string             `json:"type"`
	Schema   string             `json:"schema"`
	Tool     analyzer.Tool      `json:"tool"`
	Source   analyzer.Source    `json:"source"`
	Summary  analyzer.Summary   `json:"summary"`
	Verdict  analyzer.Verdict   `json:"verdict"`
	Backends []analyzer.Backend `json:"backends"`
}

// Summary writes the summary record of r (its lists are not written: use
// Report for everything at once).
func (n *NDJSONWriter) Summary(r *analyzer.Report) error {
	c := deepCopy(&analyzer.Report{Schema: r.Schema, Tool: r.Tool, Source: r.Source, Summary: r.Summary,
		Verdict: r.Verdict, Backends: r.Backends})
	for i := range c.Backends {
		n.scrub.backend(&c.Backends[i])
	}
	n.scrub.source(&c.Source)
	n.scrub.verdict(&c.Verdict)
	n.write(summaryRecord{Type: RecordSummary, Schema: c.Schema, Tool: c.Tool, Source: c.Source,
		Summary: c.Summary, Verdict: c.Verdict, Backends: c.Backends})
	return n.err
}

// Report writes every record of r: connections (each followed by its new
// handshakes), findings, users, then the summary. It reads the connections
// with [analyzer.Report.EachConnectionBrief] (records carry no
// exchanges), one at a time, so a streaming
// report is never held whole.
func (n *NDJSONWriter) Report(r *analyzer.Report) error {
	for c := range r.EachConnectionBrief() {
		if n.Connection(*c) != nil {
			break
		}
	}
	return n.rest(r)
}

// rest writes the records that follow the connections: findings, users,
// then the summary.
func (n *NDJSONWriter) rest(r *analyzer.Report) error {
	for _, f := range r.Findings {
		n.Finding(f)
	}
	for _, u := range r.Users {
		n.User(u)
	}
	return n.Summary(r)
}

// write encodes v on one line. HTML characters stay as they are (the
// output is no web page) and the encoder escapes control characters.
func (n *NDJSONWriter) write(v any) {
	if n.err != nil {
		return
	}
	n.buf.Reset()
	enc := json.NewEncoder(&n.buf)
	enc.SetEscapeHTML(false)
	if n.err = enc.Encode(v); n.err != nil {
		return
	}
	_, n.err = n.w.Write(n.buf.Bytes())
}

// writeEnc writes the record n.enc holds, unless encoding it failed.
func (n *NDJSONWriter) writeEnc() {
	if n.err = n.enc.err; n.err != nil {
		return
	}
	_, n.err = n.w.Write(n.enc.b)
}

// ndjsonRenderer renders a whole report through an NDJSONWriter. The
// model it reads is already scrubbed, so it writes with a writer that
// changes nothing more, and through a buffer: a record is one small
// write.
type ndjsonRenderer struct{}

func (ndjsonRenderer) render(w io.Writer, m *model) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := NewNDJSONWriter(bw, Options{KeepQuery: true})
	for c := range m.eachConnectionBrief() {
		if n.connection(c) != nil {
			break
		}
	}
	if err := n.rest(m.Report); err != nil {
		return err
	}
	return bw.Flush()
}

// copyConnection copies the slices of c that scrubbing rewrites.
func copyConnection(c analyzer.Connection) analyzer.Connection {
	c.RealClients = slices.Clone(c.RealClients)
	c.Users = slices.Clone(c.Users)
	hs := make([]analyzer.Handshake, len(c.Handshakes))
	for i, h := range c.Handshakes {
		hs[i] = copyHandshake(h)
	}
	c.Handshakes = hs
	copyExchanges(&c)
	return c
}

func copyHandshake(h analyzer.Handshake) analyzer.Handshake {
	h.Route = slices.Clone(h.Route)
	return h
}
