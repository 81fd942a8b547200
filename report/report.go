// Package report renders the analyzer's report model in the formats people
// already use: a terminal table, JSON and NDJSON for scripts, CSV for
// spreadsheets, Markdown for tickets and one self-contained HTML file with
// ladder diagrams.
//
// It renders only: every judgement (verdict, causes, findings) was made by
// the analyzer, and a renderer never drops or reorders what the model says.
// Before rendering, every renderer passes the model through the same
// sharing rules (see [Options]): query strings are dropped from request
// targets unless KeepQuery is set, and Anonymize replaces names and
// addresses with keyed pseudonyms. The model itself holds no secrets
// (challenges, responses, tokens, MICs); nothing here adds any.
//
// Renderers read the connections one at a time, with
// [analyzer.Report.EachConnection], and write as they read: a streaming
// report of a capture with a hundred thousand connections is rendered
// without ever being held whole.
package report

import (
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// Renderer writes a report in one format. Render does not modify r.
type Renderer interface {
	Render(w io.Writer, r *analyzer.Report) error
}

// Options tune rendering. The zero value is the safe default for sharing:
// no colour, query strings dropped, nothing anonymized.
type Options struct {
	// Color enables ANSI colours in the table format. The caller sets it
	// only on a terminal and never when NO_COLOR is set.
	Color bool
	// Verbose lists every row in the formats people read. Without it
	// they are cut on a large capture, and say what they left out: the
	// table format lists 50 users (those with the most failures), 50
	// connections with findings and 10 findings per code; the Markdown
	// 100 users, backends and connections with findings, and 10 findings
	// per code; the HTML every connection up to 1,000 (beyond, the
	// connections with findings, up to 1,000), 1,000 users (those with
	// the most failures), 100 findings per code and 50 connection ids per
	// user. With it the table format also lists
	// every connection, not only those with findings, and every user with
	// every client and connection id. The json, ndjson and csv formats
	// always carry everything.
	Verbose bool
	// Users and Connections restrict the table format's user and
	// connection lists (user names compare case-insensitively; connection
	// ids are the model's). Empty: no restriction.
	Users       []string
	Connections []int
	// CSVTable picks the table the csv format writes (one of [CSVTables]);
	// empty means "users".
	CSVTable string
	// KeepQuery keeps query strings in request targets; by default they
	// are dropped, since they often carry session ids or personal data.
	KeepQuery bool
	// Anonymize replaces users, domains, workstations, host names, IP
	// addresses and file names with stable pseudonyms made with a keyed
	// hash of AnonymizeKey. With an empty key each renderer draws a random
	// one: give all renderers of one run the same key ([RandomKey]) so
	// their pseudonyms agree. The mapping is never written anywhere.
	Anonymize    bool
	AnonymizeKey []byte
	// CompactJSON writes the json format without indentation, on one line:
	// for files and pipes, where programs read it (see jsonRenderer).
	CompactJSON bool
}

// formats maps each format name to its constructor: one renderer per
// format, no printer that switches on the format.
var formats = map[string]func(Options) renderer{
	"table":    func(o Options) renderer { return tableRenderer{opts: o} },
	"json":     func(o Options) renderer { return jsonRenderer{compact: o.CompactJSON} },
	"ndjson":   func(Options) renderer { return ndjsonRenderer{} },
	"csv":      func(o Options) renderer { return csvRenderer{table: o.CSVTable} },
	"markdown": func(o Options) renderer { return markdownRenderer{verbose: o.Verbose} },
	"html":     newHTMLRenderer,
}

// renderer is one format's writer. It reads the report through a model,
// so the sharing rules are applied before it sees anything.
type renderer interface {
	render(w io.Writer, m *model) error
}

// Formats returns the format names New accepts, sorted.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// FormatList names the formats New accepts, comma-separated (for help and
// error texts).
func FormatList() string { return strings.Join(Formats(), ", ") }

// New returns the renderer for a format name. It checks the options that
// only some formats use, so a bad --table fails before any capture is read.
func New(format string, opts Options) (Renderer, error) {
	f, ok := formats[strings.ToLower(format)]
	if !ok {
		return nil, fmt.Errorf("unknown format %q: use one of %s", format, FormatList())
	}
	if opts.CSVTable != "" && !slices.Contains(CSVTables, opts.CSVTable) {
		return nil, fmt.Errorf("unknown CSV table %q: use one of %s", opts.CSVTable, strings.Join(CSVTables, ", "))
	}
	return shared{format: f, opts: opts}, nil
}

// shared applies the sharing rules to the report before the format's
// renderer sees it, so that no renderer can forget them.
type shared struct {
	format func(Options) renderer
	opts   Options
}

func (s shared) Render(w io.Writer, r *analyzer.Report) error {
	sc := newScrubber(s.opts)
	m := newModel(r, sc)
	o := s.opts
	if sc.anon != nil {
		// --user names the real user; the rows carry pseudonyms now.
		o.Users = slices.Clone(o.Users)
		mapStrings(o.Users, sc.anon.name)
	}
	return s.format(o).render(w, m)
}

// model is the report as a format's renderer reads it, the sharing rules
// applied. The embedded report holds a scrubbed copy of the top-level
// fields and its Connections is always nil: the connections are read
// with EachConnection, eachConnectionBrief or connectionsIn, which scrub
// each as they yield it (a streaming report's in place, as it is built
// for that read; any other's as a copy). So a renderer never needs every
// connection of a large capture at once (and a streaming report, see
// [analyzer.Report.EachConnection], never has them all): what a format
// must see twice or sort, it collects in small rows of its own.
type model struct {
	*analyzer.Report
	src   *analyzer.Report
	scrub *scrubber
	// labels names the capture files in tables and evidence lines (see
	// analyzer.FileLabels).
	labels []string
}

// newModel prepares r for rendering under sc's rules. When anonymizing it
// first reads the whole report once, so that every name has its
// pseudonym before free text that may quote it is rewritten.
func newModel(r *analyzer.Report, sc *scrubber) *model {
	if sc.anon != nil {
		sc.learn(r)
	}
	m := &model{Report: sc.top(r), src: r, scrub: sc}
	m.labels = analyzer.FileLabels(m.Source.Files)
	return m
}

// Labels returns the names the report shows for its capture files (see
// [analyzer.FileLabels]); the HTML template reads them.
func (m *model) Labels() []string { return m.labels }

// EachConnection yields the report's connections in id order, each a
// scrubbed copy that is valid until the next one is yielded. It may be
// called any number of times and yields the same values each time.
func (m *model) EachConnection() iter.Seq[*analyzer.Connection] {
	return m.scrubbed(m.src.EachConnection())
}

// eachConnectionBrief is EachConnection without the exchanges (see
// [analyzer.Report.EachConnectionBrief]): for the renderers that list
// connections or read their handshakes, at a fraction of the cost on a
// large capture. What it yields, lists included, is only valid until the
// next is yielded.
func (m *model) eachConnectionBrief() iter.Seq[*analyzer.Connection] {
	return m.scrubbed(m.src.EachConnectionBrief())
}

// connectionsIn is EachConnection for the connections at positions lo to
// hi-1, read with [analyzer.Report.ConnectionsIn]: what it yields,
// lists included, is only valid until the next is yielded. Several may
// run at once only when concurrentScrub says so.
func (m *model) connectionsIn(lo, hi int) iter.Seq[*analyzer.Connection] {
	return m.scrubbed(m.src.ConnectionsIn(lo, hi))
}

// scrubbed yields scrubbed copies of the connections of seq.
func (m *model) scrubbed(seq iter.Seq[*analyzer.Connection]) iter.Seq[*analyzer.Connection] {
	return func(yield func(*analyzer.Connection) bool) {
		if m.src.Streaming() {
			// Each connection is built for this read alone: scrub it in
			// place rather than copy it.
			for c := range seq {
				m.scrub.connection(c)
				if !yield(c) {
					return
				}
			}
			return
		}
		for c := range seq {
			cc := m.scrub.connectionCopy(c)
			if !yield(&cc) {
				return
			}
		}
	}
}

// alongside runs fns, at once when the model may be read from several
// goroutines (see concurrentScrub), else one after another. A renderer's
// passes over the connections before it writes (the glance, the timeline,
// the rows it lists) are independent, and on a large capture reading the
// connections is most of what each costs.
func (m *model) alongside(fns ...func()) {
	if !m.concurrentScrub() {
		for _, f := range fns {
			f()
		}
		return
	}
	var wg sync.WaitGroup
	for _, f := range fns[1:] {
		wg.Go(f)
	}
	fns[0]()
	wg.Wait()
}

// concurrentScrub reports whether connectionsIn may run on several
// goroutines at once: the anonymizer's table of pseudonyms is not safe
// for that, the rest of the scrubbing only reads its options.
func (m *model) concurrentScrub() bool { return m.scrub.anon == nil }

// ConnectionCount returns how many connections EachConnection yields.
func (m *model) ConnectionCount() int { return m.src.ConnectionCount() }

// connectionsNull reports whether the report's connection list is nil
// rather than empty (a hand-built model): the JSON writes null then, as
// encoding/json does.
func (m *model) connectionsNull() bool { return m.src.Connections == nil && !m.src.Streaming() }
