package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// jsonRenderer writes the report model as one JSON document: the contract
// scripts rely on (schema "ntlmscope.report/v1"). It is indented for a
// person reading a terminal, compact for a file or a pipe (the
// [Options.CompactJSON] the command sets), as gh writes its JSON: a large
// capture's report is a third smaller and faster to write and to parse
// compact, and `jq .` indents it for whoever wants to read it.
//
// The document is written as it is encoded, member by member and
// connection by connection, never whole in memory: a capture with a
// hundred thousand connections makes a report of hundreds of megabytes.
// The bytes are those of a json.Encoder with SetIndent("", "  ") (or
// none, compact) and SetEscapeHTML(false) encoding the whole report; the connections, most
// of them, are written by the hand-written jsonEnc, the rest by
// encoding/json.
type jsonRenderer struct {
	// compact drops the indentation and every newline but the last.
	compact bool
	// workers and chunk override how many goroutines build and encode
	// the connections, and how many each takes at a time (see
	// connectionsParallel); zero picks them. For tests.
	workers, chunk int
}

func (jr jsonRenderer) render(w io.Writer, m *model) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	jw := &jsonWriter{w: bw, compact: jr.compact, workers: jr.workers, chunk: jr.chunk}
	r := m.Report
	jw.raw("{")
	jw.member("schema", r.Schema, true)
	jw.member("tool", r.Tool, true)
	jw.member("source", r.Source, true)
	jw.member("summary", r.Summary, true)
	jw.member("verdict", r.Verdict, true)
	memberList(jw, "users", r.Users, true)
	memberList(jw, "backends", r.Backends, true)
	jw.connections(m)
	jw.findings(r.Findings)
	jw.raw("}\n") // the last newline, as json.Encoder ends a value, in both layouts
	if jw.err != nil {
		return jw.err
	}
	return bw.Flush()
}

// jsonWriter writes the members of the report object, remembering the
// first error so that the rendering code stays linear.
type jsonWriter struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc jsonEnc // writes the connections, the bulk of the document
	err error
	// compact, workers and chunk are jsonRenderer's.
	compact        bool
	workers, chunk int
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

// space writes s, white space of the indented layout, unless compact.
func (j *jsonWriter) space(s string) {
	if !j.compact {
		j.raw(s)
	}
}

// key starts a member of the top-level object: its name and colon.
func (j *jsonWriter) key(name string) {
	j.space("\n  ")
	j.raw(`"` + name + `":`)
	j.space(" ")
}

// end ends a member of the top-level object: a comma unless it is the
// last one, then the closing line of the indented layout.
func (j *jsonWriter) end(comma bool) {
	if comma {
		j.raw(",")
	} else {
		j.space("\n")
	}
}

// member writes one member of the top-level object, one level deep.
func (j *jsonWriter) member(name string, v any, comma bool) {
	j.key(name)
	j.value(v, "  ")
	j.end(comma)
}

// memberList is member for a list, written one element at a time so that
// a long list (tens of thousands of findings) is never encoded whole in
// memory; the bytes are those encoding/json gives the whole list.
func memberList[T any](j *jsonWriter, name string, list []T, comma bool) {
	if len(list) == 0 { // null or [], as encoding/json writes them
		j.member(name, list, comma)
		return
	}
	j.key(name)
	j.raw("[")
	for i := range list {
		if i > 0 {
			j.raw(",")
		}
		j.space("\n    ")
		j.value(&list[i], "    ")
	}
	j.space("\n  ")
	j.raw("]")
	j.end(comma)
}

// value writes v, indented as if it stood prefix deep in the document
// unless compact.
func (j *jsonWriter) value(v any, prefix string) {
	if j.err != nil {
		return
	}
	j.buf.Reset()
	enc := json.NewEncoder(&j.buf)
	enc.SetEscapeHTML(false)
	if !j.compact {
		enc.SetIndent(prefix, "  ")
	}
	if j.err = enc.Encode(v); j.err != nil {
		return
	}
	b := j.buf.Bytes()
	_, j.err = j.w.Write(b[:len(b)-1]) // without Encode's newline
}

// connections writes the "connections" member, one element at a time.
func (j *jsonWriter) connections(m *model) {
	j.key("connections")
	if m.connectionsNull() {
		j.raw("null")
		j.end(true)
		return
	}
	total := m.ConnectionCount()
	if total > 0 {
		workers, chunk := connectionWorkers(m, total), connChunk
		if j.workers > 0 && m.concurrentScrub() {
			workers, chunk = j.workers, max(j.chunk, 1)
		}
		if workers > 1 {
			j.connectionsParallel(m, total, workers, chunk)
			j.space("\n  ")
			j.raw("]")
			j.end(true)
			return
		}
	}
	n := 0
	for c := range m.connectionsIn(0, total) {
		if n == 0 {
			j.raw("[")
		} else {
			j.raw(",")
		}
		j.space("\n    ")
		j.connection(c)
		if j.err != nil {
			return
		}
		n++
	}
	if n == 0 {
		j.raw("[]")
		j.end(true)
		return
	}
	j.space("\n  ")
	j.raw("]")
	j.end(true)
}

// findings writes the "findings" member, the last one, as memberList
// would but with the hand-written encoder.
func (j *jsonWriter) findings(list []analyzer.Finding) {
	if len(list) == 0 {
		j.member("findings", list, false)
		return
	}
	j.key("findings")
	j.raw("[")
	for i := range list {
		if j.err != nil {
			return
		}
		j.enc.reset(!j.compact, 2)
		if i > 0 {
			j.enc.b = append(j.enc.b, ',')
		}
		j.enc.newline()
		j.enc.finding(&list[i])
		if j.err = j.enc.err; j.err != nil {
			return
		}
		_, j.err = j.w.Write(j.enc.b)
	}
	j.space("\n  ")
	j.raw("]")
	j.end(false)
}

// connection writes one element of the connections array, four spaces
// deep, as value would but with the hand-written encoder.
func (j *jsonWriter) connection(c *analyzer.Connection) {
	if j.err != nil {
		return
	}
	j.enc.reset(!j.compact, 2)
	j.enc.connection(c)
	if j.err = j.enc.err; j.err != nil {
		return
	}
	_, j.err = j.w.Write(j.enc.b)
}
