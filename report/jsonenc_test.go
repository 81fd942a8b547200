package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// jsonEncFields lists, for every struct jsonEnc writes, the fields it was
// written for: name, type and tag, in order. When the model changes, teach
// jsonEnc the change, then update this list.
var jsonEncFields = map[reflect.Type][]string{
	reflect.TypeFor[analyzer.Connection](): {
		`ID int json:"id"`,
		`File int json:"file"`,
		`TCPStream int json:"tcp_stream"`,
		`Parts []analyzer.ConnectionPart json:"parts,omitempty"`,
		`Client string json:"client"`,
		`Server string json:"server"`,
		`RealClients []string json:"real_clients,omitempty"`,
		`Leg string json:"leg"`,
		`Linked []int json:"linked"`,
		`Start time.Time json:"start"`,
		`End time.Time json:"end"`,
		`Ended string json:"ended"`,
		`Midstream bool json:"midstream"`,
		`Decrypted bool json:"decrypted,omitempty"`,
		`Tunnel string json:"tunnel,omitempty"`,
		`Gaps analyzer.Gaps json:"gaps"`,
		`Requests int json:"requests"`,
		`Responses int json:"responses"`,
		`IncompleteMessages int json:"incomplete_messages"`,
		`Statuses map[string]int json:"statuses"`,
		`Users []string json:"users"`,
		`State string json:"state"`,
		`AuthenticatedRequests int json:"authenticated_requests"`,
		`Handshakes []analyzer.Handshake json:"handshakes"`,
		`Exchanges []analyzer.Exchange json:"exchanges,omitempty"`,
		`ExchangesOmitted int json:"exchanges_omitted,omitempty"`,
		`Findings []string json:"findings"`,
	},
	reflect.TypeFor[analyzer.Finding](): {
		`Code string json:"code"`,
		`Severity string json:"severity"`,
		`Title string json:"title"`,
		`Connections []int json:"connections"`,
		`TCPStreams []int json:"tcp_streams"`,
		`StreamFiles []int json:"stream_files"`,
		`Files []int json:"files"`,
		`Frames []int64 json:"frames"`,
		`FrameFiles []int json:"frame_files"`,
		`Count int json:"count"`,
		`Time time.Time json:"time"`,
		`Message string json:"message"`,
		`Users []string json:"users,omitempty"`,
	},
	reflect.TypeFor[analyzer.Gaps](): {
		`Client int json:"client"`,
		`Server int json:"server"`,
	},
	reflect.TypeFor[analyzer.Handshake](): {
		`ID int json:"id"`,
		`Scheme string json:"scheme"`,
		`SPNEGO bool json:"spnego"`,
		`Proxy bool json:"proxy"`,
		`Outcome string json:"outcome"`,
		`Cause string json:"cause,omitempty"`,
		`Evidence string json:"evidence,omitempty"`,
		`Client string json:"client"`,
		`User string json:"user"`,
		`Domain string json:"domain"`,
		`Workstation string json:"workstation"`,
		`ServerIdentity string json:"server_identity"`,
		`NTLMVersion string json:"ntlm_version"`,
		`Frames analyzer.HandshakeFrames json:"frames"`,
		`FrameFiles *analyzer.HandshakeFiles json:"frame_files,omitempty"`,
		`Times analyzer.HandshakeTimes json:"times"`,
		`Status int json:"status"`,
		`Connections []int json:"connections"`,
		`Route []analyzer.RouteStep json:"route,omitempty"`,
		`DurationMs float64 json:"duration_ms"`,
		`AuthenticatedRequests int json:"authenticated_requests"`,
		`Upstream bool json:"upstream,omitempty"`,
	},
	reflect.TypeFor[analyzer.HandshakeFrames](): {
		`Type1 int64 json:"type1"`,
		`Type2 int64 json:"type2"`,
		`Type3 int64 json:"type3"`,
		`Final int64 json:"final"`,
	},
	reflect.TypeFor[analyzer.HandshakeFiles](): {
		`Type1 int json:"type1"`,
		`Type2 int json:"type2"`,
		`Type3 int json:"type3"`,
		`Final int json:"final"`,
	},
	reflect.TypeFor[analyzer.ConnectionPart](): {
		`File int json:"file"`,
		`TCPStream int json:"tcp_stream"`,
	},
	reflect.TypeFor[analyzer.HandshakeTimes](): {
		`Type1 time.Time json:"type1"`,
		`Type2 time.Time json:"type2"`,
		`Type3 time.Time json:"type3"`,
		`Final time.Time json:"final"`,
	},
	reflect.TypeFor[analyzer.RouteStep](): {
		`Step string json:"step"`,
		`Connection int json:"connection"`,
		`Server string json:"server"`,
		`Identity string json:"identity,omitempty"`,
	},
	reflect.TypeFor[analyzer.Exchange](): {
		`Method string json:"method"`,
		`Target string json:"target"`,
		`RequestFrame int64 json:"request_frame"`,
		`RequestTime time.Time json:"request_time"`,
		`RequestAuth string json:"request_auth,omitempty"`,
		`Proxy bool json:"proxy,omitempty"`,
		`Status int json:"status,omitempty"`,
		`ResponseFrame int64 json:"response_frame,omitempty"`,
		`ResponseTime time.Time json:"response_time,omitempty"`,
		`ResponseAuth string json:"response_auth,omitempty"`,
		`Handshake int json:"handshake"`,
		`RequestFile *int json:"request_file,omitempty"`,
		`ResponseFile *int json:"response_file,omitempty"`,
	},
}

// TestJSONEncoderKnowsTheModel fails when a struct jsonEnc writes gains,
// loses, renames, retypes or retags a field, or when a connection or a
// finding comes to hold a struct jsonEnc was not written for: jsonEnc
// would silently write the old shape.
func TestJSONEncoderKnowsTheModel(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(ty.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		if ty == reflect.TypeFor[time.Time]() || seen[ty] {
			return
		}
		seen[ty] = true
		want, ok := jsonEncFields[ty]
		if !ok {
			t.Errorf("%s is in a connection but jsonEnc does not write it: teach jsonEnc, then list it in jsonEncFields", ty)
		}
		var got []string
		for f := range ty.Fields() {
			got = append(got, fmt.Sprintf("%s %s %s", f.Name, f.Type, f.Tag))
			walk(f.Type)
		}
		if ok && !slices.Equal(got, want) {
			t.Errorf("the fields of %s changed: teach jsonEnc, then update jsonEncFields\n got: %q\nwant: %q", ty, got, want)
		}
	}
	walk(reflect.TypeFor[analyzer.Connection]())
	walk(reflect.TypeFor[analyzer.Finding]())
	for ty := range jsonEncFields {
		if !seen[ty] {
			t.Errorf("jsonEncFields lists %s, which no connection holds any more", ty)
		}
	}
}

// stdJSON encodes v with encoding/json as the renderers used to: HTML
// left alone, indented four spaces deep as the JSON format's connections
// are, or compact on one line as NDJSON records are.
func stdJSON(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("    ", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	out := b.Bytes()
	if indent {
		out = out[:len(out)-1] // the JSON format writes its own separators
	}
	return out, nil
}

// stdConnectionRecord is an NDJSON connection line as encoding/json wrote
// it: the shallower Handshakes field hides the model's list of
// handshakes (and, nil, is omitted); each handshake has its own line.
type stdConnectionRecord struct {
	Type string `json:"type"`
	*analyzer.Connection
	Handshakes   *struct{} `json:"handshakes,omitempty"`
	HandshakeIDs []int     `json:"handshake_ids"`
}

type stdHandshakeRecord struct {
	Type string `json:"type"`
	analyzer.Handshake
}

// checkConnectionJSON compares jsonEnc with encoding/json on c: as an
// element of the JSON format's array, as an NDJSON connection line and as
// the NDJSON lines of its handshakes. Both must fail alike, too.
func checkConnectionJSON(t testing.TB, name string, c *analyzer.Connection) {
	t.Helper()
	var e jsonEnc
	check := func(what string, got []byte, gotErr error, v any, indent bool) {
		t.Helper()
		want, wantErr := stdJSON(v, indent)
		switch {
		case gotErr != nil || wantErr != nil:
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("%s, %s: error %v, encoding/json's %v", name, what, gotErr, wantErr)
			}
		case !bytes.Equal(got, want):
			t.Errorf("%s, %s: jsonEnc differs from encoding/json:\n%s", name, what, firstDiff(want, got))
		}
	}

	e.reset(true, 2)
	e.connection(c)
	check("indented", e.b, e.err, c, true)

	ids := make([]int, 0, len(c.Handshakes))
	for _, h := range c.Handshakes {
		ids = append(ids, h.ID)
	}
	e.reset(false, 0)
	e.connectionRecord(c)
	check("connection record", e.b, e.err, stdConnectionRecord{Type: RecordConnection, Connection: c, HandshakeIDs: ids}, false)

	for i := range c.Handshakes {
		e.reset(false, 0)
		e.handshakeRecord(&c.Handshakes[i])
		check(fmt.Sprintf("handshake record %d", i), e.b, e.err, stdHandshakeRecord{RecordHandshake, c.Handshakes[i]}, false)
	}
}

// checkFindingJSON compares jsonEnc with encoding/json on f, as an element
// of the JSON format's findings array. Both must fail alike, too.
func checkFindingJSON(t testing.TB, name string, f *analyzer.Finding) {
	t.Helper()
	var e jsonEnc
	e.reset(true, 2)
	e.finding(f)
	want, wantErr := stdJSON(f, true)
	switch {
	case e.err != nil || wantErr != nil:
		if fmt.Sprint(e.err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: error %v, encoding/json's %v", name, e.err, wantErr)
		}
	case !bytes.Equal(e.b, want):
		t.Errorf("%s: jsonEnc differs from encoding/json:\n%s", name, firstDiff(want, e.b))
	}
}

// analyzeFinished runs the real pipeline on captures read together and
// returns the finished (materialized) report.
func analyzeFinished(t *testing.T, paths ...string) *analyzer.Report {
	t.Helper()
	r := analyzeStreaming(t, paths...)
	r.Materialize()
	return r
}

// TestJSONEncoderOnCaptures compares jsonEnc with encoding/json on every
// connection of the lab captures, the synthetic capture and the public
// captures (when present), and of the fixtures.
func TestJSONEncoderOnCaptures(t *testing.T) {
	reports := map[string]*analyzer.Report{"hostile": hostileReport()}
	for name, f := range fixtures() {
		reports[name] = f()
	}
	for _, in := range streamInputs(t) {
		reports[fmt.Sprint(filepath.Base(in[0]), "+", len(in)-1)] = analyzeFinished(t, in...)
	}
	n, nf := 0, 0
	for name, r := range reports {
		for c := range r.EachConnection() {
			checkConnectionJSON(t, fmt.Sprintf("%s connection %d", name, c.ID), c)
			n++
		}
		for i := range r.Findings {
			checkFindingJSON(t, fmt.Sprintf("%s finding %d", name, i), &r.Findings[i])
			nf++
		}
	}
	if n < 100 || nf < 20 {
		t.Errorf("only %d connections and %d findings compared", n, nf)
	}
}

// TestJSONEncoderOnRandomConnections compares jsonEnc with encoding/json
// on random connections: hostile and invalid strings, odd times and
// floats, nil and empty lists.
func TestJSONEncoderOnRandomConnections(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(1, 2))
	g := connGen{next: func() byte { return byte(r.Uint32()) }}
	for i := range n {
		c := g.connection()
		checkConnectionJSON(t, fmt.Sprint("random connection ", i), &c)
		f := g.finding()
		checkFindingJSON(t, fmt.Sprint("random finding ", i), &f)
	}
}

// FuzzConnectionJSON builds a connection from the fuzz input and compares
// jsonEnc with encoding/json on it.
func FuzzConnectionJSON(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"))
	f.Add([]byte("\x02\x10DOMAIN\\<user>&\xff\xe2\x80\xa8\x00\x1f\x7f\"\x03\x03\x03\x03\x03\x03\x03\x03"))
	f.Add(bytes.Repeat([]byte{0xff, 0x80, 0x41, 0xe2, 0x80, 0xa9, 0x05}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := connGen{next: func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}}
		c := g.connection()
		checkConnectionJSON(t, "fuzzed connection", &c)
		f := g.finding()
		checkFindingJSON(t, "fuzzed finding", &f)
	})
}

// connGen builds connections from a stream of bytes (random or fuzzed),
// aiming at what encoders get wrong.
type connGen struct {
	next func() byte
}

// n returns a number in [0, k).
func (g connGen) n(k int) int { return int(g.next()) % k }

func (g connGen) bool() bool { return g.next()&1 == 1 }

func (g connGen) uint64() uint64 {
	var v uint64
	for range 8 {
		v = v<<8 | uint64(g.next())
	}
	return v
}

func (g connGen) int() int {
	switch g.n(4) {
	case 0:
		return 0
	case 1:
		return g.n(256)
	case 2:
		return []int{-1, math.MinInt, math.MaxInt, 1 << 31}[g.n(4)]
	}
	return int(g.uint64())
}

func (g connGen) int64() int64 { return int64(g.int()) }

// textPieces are the strings encoders trip over.
var textPieces = []string{
	"", "a", "DOMAIN\\user", "10.0.0.1:80", "[fe80::1]:443", "<", ">", "&", `"`, `\`, "/",
	"\u2028", "\u2029", "\u2027", "\u202a", "é", "日本", "😀", "\ufffd",
	"\x00", "\x07", "\b", "\f", "\n", "\r", "\t", "\x1b", "\x1f", " ", "\x7f",
	"\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
}

func (g connGen) string() string {
	switch g.n(4) {
	case 0:
		return ""
	case 1, 2:
		var s string
		for range 1 + g.n(6) {
			s += textPieces[g.n(len(textPieces))]
		}
		return s
	}
	b := make([]byte, g.n(24))
	for i := range b {
		b[i] = g.next()
	}
	return string(b)
}

func (g connGen) strings() []string {
	switch g.n(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	s := make([]string, 1+g.n(4))
	for i := range s {
		s[i] = g.string()
	}
	return s
}

func (g connGen) ints() []int {
	switch g.n(4) {
	case 0:
		return nil
	case 1:
		return []int{}
	}
	s := make([]int, 1+g.n(4))
	for i := range s {
		s[i] = g.int()
	}
	return s
}

// time returns mostly what the analyzer stores (UTC, or zero), sometimes
// a time in another zone or outside RFC 3339's years, where
// encoding/json fails.
func (g connGen) time() time.Time {
	nsec := []int64{0, 1, 100, 1_000, 120_000, 1_000_000, 999_999_999, int64(g.uint64() % 1e9)}[g.n(8)]
	sec := []int64{0, 1, 1_700_000_000, -62135596800, 253402300799, int64(g.uint64() % 253402300799)}[g.n(6)]
	t := time.Unix(sec, nsec)
	zones := []*time.Location{time.UTC, time.FixedZone("CEST", 2*3600), time.FixedZone("", -(9*3600 + 30*60)),
		time.FixedZone("odd", 3661), time.FixedZone("far", 25*3600)}
	switch g.n(128) {
	case 0, 1, 2, 3, 4, 5:
		return time.Time{}
	case 6, 7, 8:
		return t.In(zones[g.n(len(zones))]) // as given, not converted
	case 9:
		return time.Date(10000+g.n(3), 1, 1, 0, 0, 0, 0, time.UTC)
	case 10:
		return time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)
	}
	return t.In(zones[g.n(len(zones)-1)]).UTC() // as the analyzer stores it
}

func (g connGen) float() float64 {
	switch g.n(8) {
	case 0:
		return 0
	case 1:
		return []float64{math.Copysign(0, -1), 1e-6, 9.99e-7, 1e-7, 5e-324, 1e20, 1e21, 123456789e13,
			math.MaxFloat64, -1e-9, 0.1, 1.5, 12, -250.125}[g.n(14)]
	case 2:
		if g.n(16) == 0 {
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[g.n(3)]
		}
		f := math.Float64frombits(g.uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 1
		}
		return f
	}
	return float64(g.int()%1e7) / 1000
}

func (g connGen) connection() analyzer.Connection {
	c := analyzer.Connection{
		ID: g.int(), File: g.int(), TCPStream: g.int(), Client: g.string(), Server: g.string(),
		RealClients: g.strings(), Leg: g.string(), Linked: g.ints(), Start: g.time(), End: g.time(),
		Ended: g.string(), Midstream: g.bool(), Decrypted: g.bool(), Tunnel: []string{"", "tls"}[g.n(2)],
		Gaps:     analyzer.Gaps{Client: g.int(), Server: g.int()},
		Requests: g.int(), Responses: g.int(), IncompleteMessages: g.int(),
		Users: g.strings(), State: g.string(), AuthenticatedRequests: g.int(),
		ExchangesOmitted: []int{0, g.int()}[g.n(2)], Findings: g.strings(),
	}
	switch g.n(3) {
	case 1:
		c.Statuses = map[string]int{}
	case 2:
		c.Statuses = map[string]int{}
		for range 1 + g.n(5) {
			c.Statuses[[]string{"200", "401", "407", "100", g.string()}[g.n(5)]] = g.int()
		}
	}
	if k := g.n(4); k > 0 {
		c.Parts = make([]analyzer.ConnectionPart, k-1)
		for i := range c.Parts {
			c.Parts[i] = analyzer.ConnectionPart{File: g.int(), TCPStream: g.int()}
		}
	}
	if k := g.n(5); k > 0 {
		c.Handshakes = make([]analyzer.Handshake, k-1)
		for i := range c.Handshakes {
			c.Handshakes[i] = g.handshake()
		}
	}
	if k := g.n(5); k > 0 {
		c.Exchanges = make([]analyzer.Exchange, k-1)
		for i := range c.Exchanges {
			c.Exchanges[i] = g.exchange()
		}
	}
	return c
}

func (g connGen) handshake() analyzer.Handshake {
	h := analyzer.Handshake{
		ID: g.int(), Scheme: g.string(), SPNEGO: g.bool(), Proxy: g.bool(), Outcome: g.string(),
		Cause: g.string(), Evidence: g.string(), Client: g.string(), User: g.string(), Domain: g.string(),
		Workstation: g.string(), ServerIdentity: g.string(), NTLMVersion: g.string(),
		Frames: analyzer.HandshakeFrames{Type1: g.int64(), Type2: g.int64(), Type3: g.int64(), Final: g.int64()},
		Times:  analyzer.HandshakeTimes{Type1: g.time(), Type2: g.time(), Type3: g.time(), Final: g.time()},
		Status: g.int(), Connections: g.ints(), DurationMs: g.float(), AuthenticatedRequests: g.int(),
		Upstream: g.bool(),
	}
	if g.n(3) == 0 {
		h.FrameFiles = &analyzer.HandshakeFiles{Type1: g.int(), Type2: g.int(), Type3: g.int(), Final: g.int()}
	}
	if k := g.n(4); k > 0 {
		h.Route = make([]analyzer.RouteStep, k-1)
		for i := range h.Route {
			h.Route[i] = analyzer.RouteStep{Step: g.string(), Connection: g.int(), Server: g.string(), Identity: g.string()}
		}
	}
	return h
}

func (g connGen) exchange() analyzer.Exchange {
	x := analyzer.Exchange{
		Method: g.string(), Target: g.string(), RequestFrame: g.int64(), RequestTime: g.time(),
		RequestAuth: g.string(), Proxy: g.bool(), Status: g.int(), ResponseFrame: g.int64(),
		ResponseTime: g.time(), ResponseAuth: g.string(), Handshake: g.int(),
	}
	if g.n(3) == 0 {
		x.RequestFile = new(g.int())
	}
	if g.n(3) == 0 {
		x.ResponseFile = new(g.int())
	}
	return x
}

func (g connGen) int64s() []int64 {
	var s []int64
	for _, n := range g.ints() {
		s = append(s, int64(n))
	}
	if s == nil && g.bool() {
		s = []int64{}
	}
	return s
}

func (g connGen) finding() analyzer.Finding {
	return analyzer.Finding{
		Code: g.string(), Severity: g.string(), Title: g.string(), Connections: g.ints(), TCPStreams: g.ints(),
		StreamFiles: g.ints(), Files: g.ints(), Frames: g.int64s(), FrameFiles: g.ints(), Count: g.int(), Time: g.time(),
		Message: g.string(), Users: g.strings(),
	}
}

// TestJSONEncoderTimes compares jsonEnc's times with MarshalJSON's, one
// after another in one encoder (it keeps the text of the last day): UTC
// times around midnights, leap days and the ends of RFC 3339's range,
// every number of fractional digits, and times in other zones.
func TestJSONEncoderTimes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var times []time.Time
	for _, d := range []time.Time{
		time.Unix(0, 0), time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(1999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 500, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), {},
		time.Date(2024, 5, 1, 12, 0, 0, 120_000, time.FixedZone("CEST", 2*3600)),
		time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("UTC", 0)),
	} {
		times = append(times, d, d.Add(time.Nanosecond), d.Add(-time.Nanosecond), d.Add(time.Second))
	}
	for range 20000 {
		sec := r.Int64N(3 * 86400)
		if r.IntN(4) == 0 {
			sec = r.Int64N(maxFastTime)
		}
		nsec := []int64{0, 1, 10, 100_000, 999_999_999, r.Int64N(1e9)}[r.IntN(6)]
		times = append(times, time.Unix(1_700_000_000+sec%(3*86400), nsec).UTC(), time.Unix(sec, nsec).UTC())
	}
	var e jsonEnc
	for _, tm := range times {
		want, wantErr := tm.MarshalJSON()
		e.reset(true, 0)
		e.time(tm)
		if wantErr != nil {
			if e.err == nil {
				t.Errorf("%v: no error, MarshalJSON's %v", tm, wantErr)
			}
			continue
		}
		if e.err != nil || string(e.b) != string(want) {
			t.Errorf("%v: %s (error %v), want %s", tm, e.b, e.err, want)
		}
	}
}
