// Package report renders the analyzer's report model in the formats people
// already use: a terminal table, JSON and NDJSON for scripts, CSV, Markdown
// for tickets and self-contained HTML.
//
// It renders only: every judgement was made by the analyzer. Nothing it
// writes contains secrets (the model holds none).
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// Options tune rendering.
type Options struct {
	// Color enables ANSI colours (only on a terminal, never with NO_COLOR).
	Color bool
}

// Renderer writes a report in one format.
type Renderer interface {
	Render(w io.Writer, r *analyzer.Report) error
}

var formats = map[string]func(Options) Renderer{
	"json":  func(Options) Renderer { return jsonRenderer{} },
	"table": func(o Options) Renderer { return tableRenderer{opts: o} },
}

// FormatList names the formats New accepts, comma-separated.
func FormatList() string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// New returns the renderer for a format name.
func New(format string, opts Options) (Renderer, error) {
	f, ok := formats[strings.ToLower(format)]
	if !ok {
		return nil, fmt.Errorf("unknown format %q: use one of %s", format, FormatList())
	}
	return f(opts), nil
}
