package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// jsonRenderer writes the report model as one indented JSON document: the
// contract scripts rely on (schema "ntlmscope.report/v1").
//
// The document is written as it is encoded, member by member and
// connection by connection, never whole in memory: a capture with a
// hundred thousand connections makes a report of hundreds of megabytes.
// The bytes are those of a json.Encoder with SetIndent("", "  ") and
// SetEscapeHTML(false) encoding the whole report; the connections, most
// of them, are written by the hand-written jsonEnc, the rest by
// encoding/json.
type jsonRenderer struct {
	// workers and chunk override how many goroutines build and encode
	// the connections, and how many each takes at a time (see
	// connectionsParallel); zero picks them. For tests.
	workers, chunk int
}

func (jr jsonRenderer) render(w io.Writer, m *model) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	jw := &jsonWriter{w: bw, workers: jr.workers, chunk: jr.chunk}
	r := m.Report
	jw.raw("{\n")
	jw.member("schema", r.Schema, true)
	jw.member("tool", r.Tool, true)
	jw.member("source", r.Source, true)
	jw.member("summary", r.Summary, true)
	jw.member("verdict", r.Verdict, true)
	memberList(jw, "users", r.Users, true)
	memberList(jw, "backends", r.Backends, true)
	jw.connections(m)
	jw.findings(r.Findings)
	jw.raw("}\n")
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
	// workers and chunk are jsonRenderer's.
	workers, chunk int
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

// member writes one member of the top-level object, one level deep.
func (j *jsonWriter) member(name string, v any, comma bool) {
	j.raw(`  "` + name + `": `)
	j.value(v, "  ")
	if comma {
		j.raw(",\n")
	} else {
		j.raw("\n")
	}
}

// memberList is member for a list, written one element at a time so that
// a long list (tens of thousands of findings) is never encoded whole in
// memory; the bytes are those encoding/json gives the whole list.
func memberList[T any](j *jsonWriter, name string, list []T, comma bool) {
	if len(list) == 0 { // null or [], as encoding/json writes them
		j.member(name, list, comma)
		return
	}
	j.raw(`  "` + name + `": [`)
	for i := range list {
		if i > 0 {
			j.raw(",")
		}
		j.raw("\n    ")
		j.value(&list[i], "    ")
	}
	j.raw("\n  ]")
	if comma {
		j.raw(",\n")
	} else {
		j.raw("\n")
	}
}

// value writes v indented as if it stood prefix deep in the document.
func (j *jsonWriter) value(v any, prefix string) {
	if j.err != nil {
		return
	}
	j.buf.Reset()
	enc := json.NewEncoder(&j.buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if j.err = enc.Encode(v); j.err != nil {
		return
	}
	b := j.buf.Bytes()
	_, j.err = j.w.Write(b[:len(b)-1]) // without Encode's newline
}

// connections writes the "connections" member, one element at a time.
func (j *jsonWriter) connections(m *model) {
	j.raw(`  "connections": `)
	if m.connectionsNull() {
		j.raw("null,\n")
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
			j.raw("\n  ],\n")
			return
		}
	}
	n := 0
	for c := range m.connectionsIn(0, total) {
		if n == 0 {
			j.raw("[\n    ")
		} else {
			j.raw(",\n    ")
		}
		j.connection(c)
		if j.err != nil {
			return
		}
		n++
	}
	if n == 0 {
		j.raw("[],\n")
		return
	}
	j.raw("\n  ],\n")
}

// findings writes the "findings" member, the last one, as memberList
// would but with the hand-written encoder.
func (j *jsonWriter) findings(list []analyzer.Finding) {
	if len(list) == 0 {
		j.member("findings", list, false)
		return
	}
	j.raw(`  "findings": [`)
	for i := range list {
		if j.err != nil {
			return
		}
		j.enc.reset(true, 2)
		if i > 0 {
			j.enc.b = append(j.enc.b, ',')
		}
		j.enc.b = append(j.enc.b, "\n    "...)
		j.enc.finding(&list[i])
		if j.err = j.enc.err; j.err != nil {
			return
		}
		_, j.err = j.w.Write(j.enc.b)
	}
	j.raw("\n  ]\n")
}

// connection writes one element of the connections array, four spaces
// deep, as value would but with the hand-written encoder.
func (j *jsonWriter) connection(c *analyzer.Connection) {
	if j.err != nil {
		return
	}
	j.enc.reset(true, 2)
	j.enc.connection(c)
	if j.err = j.enc.err; j.err != nil {
		return
	}
	_, j.err = j.w.Write(j.enc.b)
}
