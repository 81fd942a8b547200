package report

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// jsonEnc writes an [analyzer.Connection] and everything inside it as
// JSON, byte for byte as encoding/json does with HTML escaping off:
// indented as json.MarshalIndent indents, or compact for NDJSON records.
//
// It is written by hand for speed. The connections are some 95% of a large
// report's bytes, and encoding/json spends most of a report's rendering
// time on them: reflection for every field, then for indented output a
// second pass over the bytes to indent them. Appending straight into one
// buffer reused from connection to connection costs a fraction of that
// and makes almost no garbage.
//
// The price is that it must learn every field the model gains:
// TestJSONEncoderKnowsTheModel fails until it does, and the tests compare
// it with encoding/json on real captures, random connections and fuzz
// input.
type jsonEnc struct {
	b []byte
	// indent selects MarshalIndent's layout with a two-space indent;
	// depth is the nesting level of the value being written (a prefix
	// counts as levels: the JSON format writes connections at level 2).
	indent bool
	depth  int
	keys   []string // scratch for sorting map keys
	err    error    // the first value encoding/json would refuse
	// day is the day (since the Unix epoch) of the last time written in
	// UTC, dayText its date as RFC 3339 starts it ("2006-01-02T"; a zero
	// first byte: none yet).
	day     int64
	dayText [11]byte
}

// jsonNewline is a newline and enough indentation for any level the model
// nests to, sliced by newline.
const jsonNewline = "\n                                "

// newline starts a new line at the current depth (indented layout only).
func (e *jsonEnc) newline() {
	if !e.indent {
		return
	}
	if n := 1 + 2*e.depth; n <= len(jsonNewline) {
		e.b = append(e.b, jsonNewline[:n]...)
		return
	}
	e.b = append(e.b, '\n')
	for range e.depth {
		e.b = append(e.b, "  "...)
	}
}

// open starts an object or array that has at least one element.
func (e *jsonEnc) open(c byte) {
	e.b = append(e.b, c)
	e.depth++
}

// close ends what open started.
func (e *jsonEnc) close(c byte) {
	e.depth--
	e.newline()
	e.b = append(e.b, c)
}

// next starts an array element or object member: a comma unless it is the
// first, then a new line.
func (e *jsonEnc) next(first bool) {
	if !first {
		e.b = append(e.b, ',')
	}
	e.newline()
}

// key starts an object member; name needs no escaping.
func (e *jsonEnc) key(first bool, name string) {
	e.next(first)
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	if e.indent {
		e.b = append(e.b, `": `...)
	} else {
		e.b = append(e.b, `":`...)
	}
}

func (e *jsonEnc) int(v int) { e.b = strconv.AppendInt(e.b, int64(v), 10) }

func (e *jsonEnc) int64(v int64) { e.b = strconv.AppendInt(e.b, v, 10) }

func (e *jsonEnc) bool(v bool) { e.b = strconv.AppendBool(e.b, v) }

// float writes f as encoding/json does: like ES6, 'f' format except for
// very small or large magnitudes, with a one-digit negative exponent.
func (e *jsonEnc) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.fail(&json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, 64)})
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.b = strconv.AppendFloat(e.b, f, format, -1, 64)
	if format == 'e' {
		// e-07 becomes e-7.
		b := e.b
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			e.b = b[:n-1]
		}
	}
}

// time writes t as time.Time.MarshalJSON does: RFC 3339 with the
// nanoseconds that are not zero.
func (e *jsonEnc) time(t time.Time) {
	if t.Location() == time.UTC { // what the analyzer stores
		if t.IsZero() { // a step not seen
			e.b = append(e.b, `"0001-01-01T00:00:00Z"`...)
			return
		}
		if sec := t.Unix(); sec >= 0 && sec < maxFastTime {
			e.fastTime(sec, t.Nanosecond(), t)
			return
		}
	}
	e.b = append(e.b, '"')
	b, err := t.AppendText(e.b)
	if err != nil {
		// Out of RFC 3339's range: fail with encoding/json's error.
		_, err = t.MarshalJSON()
		e.fail(&json.MarshalerError{Type: reflect.TypeFor[time.Time](), Err: err})
		return
	}
	e.b = append(b, '"')
}

// maxFastTime is the first second fastTime leaves alone: year 10000, from
// which RFC 3339 has no text.
const maxFastTime = 253402300800

// fastTime writes the UTC time t, sec seconds and nsec nanoseconds after
// the Unix epoch, as time does, without the time package's formatting:
// a report writes some ten times per connection, and nearly all of them
// fall on a few days, whose text jsonEnc keeps.
func (e *jsonEnc) fastTime(sec int64, nsec int, t time.Time) {
	const secsPerDay = 86400
	if day := sec / secsPerDay; day != e.day || e.dayText[0] == 0 {
		b, _ := t.AppendText(e.dayText[:0]) // "2006-01-02T15:04:05...": the date is the first 11 bytes
		copy(e.dayText[:], b)
		e.day = day
	}
	s := sec % secsPerDay
	h, m := s/3600, s/60%60
	s %= 60
	e.b = append(e.b, '"')
	e.b = append(e.b, e.dayText[:]...)
	e.b = append(e.b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':',
		byte('0'+s/10), byte('0'+s%10))
	if nsec != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + nsec%10)
			nsec /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		e.b = append(e.b, frac[:n]...)
	}
	e.b = append(e.b, 'Z', '"')
}

func (e *jsonEnc) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// string writes s quoted as encoding/json does without HTML escaping:
// quote, backslash and control characters escaped, invalid UTF-8 as
// U+FFFD, and U+2028 and U+2029 escaped for JSONP's sake.
func (e *jsonEnc) string(s string) {
	const hex = "0123456789abcdef"
	b := append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		} else {
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	e.b = append(b, '"')
}

// list writes the elements of v with item; nil is null, as encoding/json
// writes a nil slice.
func list[T any](e *jsonEnc, v []T, item func(*T)) {
	if v == nil {
		e.b = append(e.b, "null"...)
		return
	}
	if len(v) == 0 {
		e.b = append(e.b, "[]"...)
		return
	}
	e.open('[')
	for i := range v {
		e.next(i == 0)
		item(&v[i])
	}
	e.close(']')
}

// strings writes a list of strings; nil is null.
func (e *jsonEnc) strings(v []string) { list(e, v, func(s *string) { e.string(*s) }) }

// ints writes a list of ints; nil is null.
func (e *jsonEnc) ints(v []int) { list(e, v, func(n *int) { e.int(*n) }) }

// counts writes a map of counts with its keys sorted, as encoding/json
// does; nil is null.
func (e *jsonEnc) counts(m map[string]int) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	if len(m) == 0 {
		e.b = append(e.b, "{}"...)
		return
	}
	keys := e.keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.open('{')
	for i, k := range keys {
		e.next(i == 0)
		e.string(k)
		if e.indent {
			e.b = append(e.b, ": "...)
		} else {
			e.b = append(e.b, ':')
		}
		e.int(m[k])
	}
	e.close('}')
	clear(keys)
	e.keys = keys[:0]
}

// connection writes c as an object. The members are those of
// analyzer.Connection, in its order; keep them in step with the model.
func (e *jsonEnc) connection(c *analyzer.Connection) {
	e.open('{')
	e.connectionMembers(c, true)
	e.key(false, "handshakes")
	e.handshakes(c.Handshakes)
	e.connectionTail(c)
	e.close('}')
}

// connectionMembers writes c's members up to its handshakes, first says
// whether they open the object.
func (e *jsonEnc) connectionMembers(c *analyzer.Connection, first bool) {
	e.key(first, "id")
	e.int(c.ID)
	e.key(false, "file")
	e.int(c.File)
	e.key(false, "tcp_stream")
	e.int(c.TCPStream)
	if len(c.Parts) > 0 {
		e.key(false, "parts")
		list(e, c.Parts, func(p *analyzer.ConnectionPart) {
			e.open('{')
			e.key(true, "file")
			e.int(p.File)
			e.key(false, "tcp_stream")
			e.int(p.TCPStream)
			e.close('}')
		})
	}
	e.key(false, "client")
	e.string(c.Client)
	e.key(false, "server")
	e.string(c.Server)
	if len(c.RealClients) > 0 {
		e.key(false, "real_clients")
		e.strings(c.RealClients)
	}
	e.key(false, "leg")
	e.string(c.Leg)
	e.key(false, "linked")
	e.ints(c.Linked)
	e.key(false, "start")
	e.time(c.Start)
	e.key(false, "end")
	e.time(c.End)
	e.key(false, "ended")
	e.string(c.Ended)
	e.key(false, "midstream")
	e.bool(c.Midstream)
	if c.Decrypted {
		e.key(false, "decrypted")
		e.bool(c.Decrypted)
	}
	if c.Tunnel != "" {
		e.key(false, "tunnel")
		e.string(c.Tunnel)
	}
	e.key(false, "gaps")
	e.open('{')
	e.key(true, "client")
	e.int(c.Gaps.Client)
	e.key(false, "server")
	e.int(c.Gaps.Server)
	e.close('}')
	e.key(false, "requests")
	e.int(c.Requests)
	e.key(false, "responses")
	e.int(c.Responses)
	e.key(false, "incomplete_messages")
	e.int(c.IncompleteMessages)
	e.key(false, "statuses")
	e.counts(c.Statuses)
	e.key(false, "users")
	e.strings(c.Users)
	e.key(false, "state")
	e.string(c.State)
	e.key(false, "authenticated_requests")
	e.int(c.AuthenticatedRequests)
}

// connectionTail writes c's members after its handshakes.
func (e *jsonEnc) connectionTail(c *analyzer.Connection) {
	if len(c.Exchanges) > 0 {
		e.key(false, "exchanges")
		list(e, c.Exchanges, e.exchange)
	}
	if c.ExchangesOmitted != 0 {
		e.key(false, "exchanges_omitted")
		e.int(c.ExchangesOmitted)
	}
	e.key(false, "findings")
	e.strings(c.Findings)
}

// handshakes writes a list of handshakes; nil is null.
func (e *jsonEnc) handshakes(hs []analyzer.Handshake) {
	list(e, hs, func(h *analyzer.Handshake) {
		e.open('{')
		e.handshakeMembers(h, true)
		e.close('}')
	})
}

// handshakeMembers writes h's members, in analyzer.Handshake's order.
func (e *jsonEnc) handshakeMembers(h *analyzer.Handshake, first bool) {
	e.key(first, "id")
	e.int(h.ID)
	e.key(false, "scheme")
	e.string(h.Scheme)
	e.key(false, "spnego")
	e.bool(h.SPNEGO)
	e.key(false, "proxy")
	e.bool(h.Proxy)
	e.key(false, "outcome")
	e.string(h.Outcome)
	if h.Cause != "" {
		e.key(false, "cause")
		e.string(h.Cause)
	}
	if h.Evidence != "" {
		e.key(false, "evidence")
		e.string(h.Evidence)
	}
	e.key(false, "client")
	e.string(h.Client)
	e.key(false, "user")
	e.string(h.User)
	e.key(false, "domain")
	e.string(h.Domain)
	e.key(false, "workstation")
	e.string(h.Workstation)
	e.key(false, "server_identity")
	e.string(h.ServerIdentity)
	e.key(false, "ntlm_version")
	e.string(h.NTLMVersion)
	e.key(false, "frames")
	e.open('{')
	e.key(true, "type1")
	e.int64(h.Frames.Type1)
	e.key(false, "type2")
	e.int64(h.Frames.Type2)
	e.key(false, "type3")
	e.int64(h.Frames.Type3)
	e.key(false, "final")
	e.int64(h.Frames.Final)
	e.close('}')
	if ff := h.FrameFiles; ff != nil {
		e.key(false, "frame_files")
		e.open('{')
		e.key(true, "type1")
		e.int(ff.Type1)
		e.key(false, "type2")
		e.int(ff.Type2)
		e.key(false, "type3")
		e.int(ff.Type3)
		e.key(false, "final")
		e.int(ff.Final)
		e.close('}')
	}
	e.key(false, "times")
	e.open('{')
	e.key(true, "type1")
	e.time(h.Times.Type1)
	e.key(false, "type2")
	e.time(h.Times.Type2)
	e.key(false, "type3")
	e.time(h.Times.Type3)
	e.key(false, "final")
	e.time(h.Times.Final)
	e.close('}')
	e.key(false, "status")
	e.int(h.Status)
	e.key(false, "connections")
	e.ints(h.Connections)
	if len(h.Route) > 0 {
		e.key(false, "route")
		list(e, h.Route, e.routeStep)
	}
	e.key(false, "duration_ms")
	e.float(h.DurationMs)
	e.key(false, "authenticated_requests")
	e.int(h.AuthenticatedRequests)
	if h.Upstream {
		e.key(false, "upstream")
		e.bool(h.Upstream)
	}
}

func (e *jsonEnc) routeStep(s *analyzer.RouteStep) {
	e.open('{')
	e.key(true, "step")
	e.string(s.Step)
	e.key(false, "connection")
	e.int(s.Connection)
	e.key(false, "server")
	e.string(s.Server)
	if s.Identity != "" {
		e.key(false, "identity")
		e.string(s.Identity)
	}
	e.close('}')
}

func (e *jsonEnc) exchange(x *analyzer.Exchange) {
	e.open('{')
	e.key(true, "method")
	e.string(x.Method)
	e.key(false, "target")
	e.string(x.Target)
	e.key(false, "request_frame")
	e.int64(x.RequestFrame)
	e.key(false, "request_time")
	e.time(x.RequestTime)
	if x.RequestAuth != "" {
		e.key(false, "request_auth")
		e.string(x.RequestAuth)
	}
	if x.Proxy {
		e.key(false, "proxy")
		e.bool(x.Proxy)
	}
	if x.Status != 0 {
		e.key(false, "status")
		e.int(x.Status)
	}
	if x.ResponseFrame != 0 {
		e.key(false, "response_frame")
		e.int64(x.ResponseFrame)
	}
	// omitempty never omits a struct: a zero response time is written.
	e.key(false, "response_time")
	e.time(x.ResponseTime)
	if x.ResponseAuth != "" {
		e.key(false, "response_auth")
		e.string(x.ResponseAuth)
	}
	e.key(false, "handshake")
	e.int(x.Handshake)
	if x.RequestFile != nil {
		e.key(false, "request_file")
		e.int(*x.RequestFile)
	}
	if x.ResponseFile != nil {
		e.key(false, "response_file")
		e.int(*x.ResponseFile)
	}
	e.close('}')
}

// connectionRecord writes c as an NDJSON connection line (see
// [NDJSONWriter]), newline included, in the compact layout: c's members
// without its handshakes, then the ids of those.
func (e *jsonEnc) connectionRecord(c *analyzer.Connection) {
	e.b = append(e.b, `{"type":"`+RecordConnection+`"`...)
	e.connectionMembers(c, false)
	e.connectionTail(c)
	// Never null: the record lists the ids, possibly none.
	e.b = append(e.b, `,"handshake_ids":[`...)
	for i := range c.Handshakes {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.int(c.Handshakes[i].ID)
	}
	e.b = append(e.b, "]}\n"...)
}

// handshakeRecord writes h as an NDJSON handshake line, newline included,
// in the compact layout.
func (e *jsonEnc) handshakeRecord(h *analyzer.Handshake) {
	e.b = append(e.b, `{"type":"`+RecordHandshake+`"`...)
	e.handshakeMembers(h, false)
	e.b = append(e.b, "}\n"...)
}

// reset empties the buffer for a new value written depth levels deep in
// the given layout.
func (e *jsonEnc) reset(indent bool, depth int) {
	e.b = e.b[:0]
	e.indent = indent
	e.depth = depth
	e.err = nil
}

// int64s writes a list of int64s; nil is null.
func (e *jsonEnc) int64s(v []int64) { list(e, v, func(n *int64) { e.int64(*n) }) }

// finding writes f as an object. The members are those of
// analyzer.Finding, in its order; keep them in step with the model. The
// findings of a large capture are tens of thousands: encoding/json and its
// indenting pass spent more on them than on all the rest but the
// connections.
func (e *jsonEnc) finding(f *analyzer.Finding) {
	e.open('{')
	e.key(true, "code")
	e.string(f.Code)
	e.key(false, "severity")
	e.string(f.Severity)
	e.key(false, "title")
	e.string(f.Title)
	e.key(false, "connections")
	e.ints(f.Connections)
	e.key(false, "tcp_streams")
	e.ints(f.TCPStreams)
	e.key(false, "stream_files")
	e.ints(f.StreamFiles)
	e.key(false, "files")
	e.ints(f.Files)
	e.key(false, "frames")
	e.int64s(f.Frames)
	e.key(false, "frame_files")
	e.ints(f.FrameFiles)
	e.key(false, "count")
	e.int(f.Count)
	e.key(false, "time")
	e.time(f.Time)
	e.key(false, "message")
	e.string(f.Message)
	if len(f.Users) > 0 {
		e.key(false, "users")
		e.strings(f.Users)
	}
	e.close('}')
}
