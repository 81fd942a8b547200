package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/report"
)

// output is one report to write: a renderer and where its bytes go ("" is
// standard output).
type output struct {
	path     string
	renderer report.Renderer
}

// planOutputs turns the report flags into renderers, checking everything
// before any capture is read so that a typo costs nothing.
func planOutputs(opts *analyzeOptions) ([]output, error) {
	tableOnly := opts.Verbose || len(opts.Users) > 0 || len(opts.Connections) > 0
	extras := []struct{ format, path string }{{"html", opts.HTMLFile}, {"json", opts.JSONFile}, {"markdown", opts.MarkdownFile}}
	anyExtra := opts.HTMLFile != "" || opts.JSONFile != "" || opts.MarkdownFile != ""

	outPath := opts.Output
	if outPath == "-" { // -o - is standard output, as for the inputs
		outPath = ""
	}
	format := opts.Format
	if format == "" {
		format = formatFromName(outPath)
	}
	if format == "" {
		format = "json"
		if (opts.IO.StdoutTTY && outPath == "") || tableOnly {
			format = "table"
		}
	}
	if tableOnly && format != "table" {
		return nil, fmt.Errorf("-v, --user and --connection shape the table format: add --format table (or drop --format %s)", format)
	}
	if opts.CSVTable != "" && format != "csv" {
		return nil, fmt.Errorf("--table picks the table of --format csv: add --format csv")
	}
	ro := report.Options{
		Verbose:     opts.Verbose,
		Users:       opts.Users,
		Connections: opts.Connections,
		CSVTable:    opts.CSVTable,
		KeepQuery:   opts.KeepQuery,
		Anonymize:   opts.Anonymize || opts.AnonymizeKey != "",
	}
	if ro.Anonymize {
		// One key for every report of the run, so their pseudonyms agree.
		ro.AnonymizeKey = []byte(opts.AnonymizeKey)
		if opts.AnonymizeKey == "" {
			ro.AnonymizeKey = report.RandomKey()
		}
	}

	var outs []output
	seen := map[string]bool{}
	add := func(format, path string, o report.Options) error {
		if path != "" && seen[path] {
			return fmt.Errorf("%s is named twice: give each report its own file", path)
		}
		seen[path] = true
		r, err := report.New(format, o)
		if err != nil {
			return err
		}
		outs = append(outs, output{path: path, renderer: r})
		return nil
	}
	if opts.Format != "" || opts.Output != "" || !anyExtra {
		main := ro
		main.Color = format == "table" && outPath == "" && opts.IO.StdoutTTY && !opts.IO.NoColor
		if err := add(format, outPath, main); err != nil {
			return nil, err
		}
	}
	for _, e := range extras {
		if e.path != "" {
			if err := add(e.format, e.path, ro); err != nil {
				return nil, err
			}
		}
	}
	return outs, nil
}

// formatFromName guesses a report format from a file name's extension; ""
// when it says nothing.
func formatFromName(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return "html"
	case ".json":
		return "json"
	case ".ndjson", ".jsonl":
		return "ndjson"
	case ".csv":
		return "csv"
	case ".md", ".markdown":
		return "markdown"
	case ".txt":
		return "table"
	}
	return ""
}

// writeOutputs renders rep into every output. A file is written beside its
// final name and renamed into place, so a failed run never leaves half a
// report where a previous one was. Each renderer reads the connections
// anew (a streaming report builds them again, one at a time), so writing
// several formats never holds every connection at once.
func writeOutputs(ios *IOStreams, outs []output, rep *analyzer.Report) error {
	for _, o := range outs {
		if o.path == "" {
			if err := o.renderer.Render(ios.Out, rep); err != nil {
				return fmt.Errorf("cannot write the report: %w", err)
			}
			continue
		}
		if err := writeFile(o.path, func(w io.Writer) error { return o.renderer.Render(w, rep) }); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes path atomically through a temporary file in its
// directory. Special files (/dev/null, /dev/stdout) are written directly.
func writeFile(path string, render func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("cannot write the report: %w", err)
		}
		defer f.Close()
		if err := render(f); err != nil {
			return fmt.Errorf("cannot write the report to %s: %w", path, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write the report: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	werr := render(tmp)
	cerr := tmp.Close()
	if err := cmp.Or(werr, cerr); err != nil {
		return fmt.Errorf("cannot write the report to %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("cannot write the report to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write the report: %w", err)
	}
	return nil
}
