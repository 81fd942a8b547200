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
package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

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
	// Verbose lists every connection in the table format, not only those
	// with findings.
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
}

// formats maps each format name to its constructor: one renderer per
// format, no printer that switches on the format.
var formats = map[string]func(Options) Renderer{
	"table":    func(o Options) Renderer { return tableRenderer{opts: o} },
	"json":     func(Options) Renderer { return jsonRenderer{} },
	"ndjson":   func(Options) Renderer { return ndjsonRenderer{} },
	"csv":      func(o Options) Renderer { return csvRenderer{table: o.CSVTable} },
	"markdown": func(Options) Renderer { return markdownRenderer{} },
	"html":     func(o Options) Renderer { return htmlRenderer{anonymized: o.Anonymize} },
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

// shared applies the sharing rules to a copy of the model before the
// format's renderer sees it, so that no renderer can forget them.
type shared struct {
	format func(Options) Renderer
	opts   Options
}

func (s shared) Render(w io.Writer, r *analyzer.Report) error {
	sc := newScrubber(s.opts)
	clean := sc.report(r)
	o := s.opts
	if sc.anon != nil {
		// --user names the real user; the rows carry pseudonyms now.
		o.Users = slices.Clone(o.Users)
		mapStrings(o.Users, sc.anon.name)
	}
	return s.format(o).Render(w, clean)
}
