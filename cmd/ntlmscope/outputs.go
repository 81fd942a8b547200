package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/report"
)

// reportOptions are the report flags that analyze and capture share: which
// reports to write where, how the table looks, the sharing rules and
// --fail-on. addReportFlags registers them, planOutputs checks them.
type reportOptions struct {
	// Format and Output are the main report (standard output unless
	// Output); HTMLFile, JSONFile and MarkdownFile add reports in those
	// formats, all from one run.
	Format       string
	Output       string
	HTMLFile     string
	JSONFile     string
	MarkdownFile string
	// CSVTable picks the table of --format csv.
	CSVTable string
	// Verbose lists every row of the table, markdown and html formats;
	// Users and Connections narrow the table format.
	Verbose     bool
	Users       []string
	Connections []int
	// KeepQuery, Anonymize and AnonymizeKey are the sharing rules.
	KeepQuery    bool
	Anonymize    bool
	AnonymizeKey string
	// FailOn lists verdict codes, finding codes and severities that make
	// the command exit 3.
	FailOn []string
}

// addReportFlags registers the report flags on a command, with the same
// names and help on every command that reports.
func addReportFlags(f *pflag.FlagSet, o *reportOptions) {
	f.StringVar(&o.Format, "format", "", "report `FORMAT`: "+report.FormatList()+" (default table on a terminal, json otherwise)")
	f.StringVarP(&o.Output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.StringVar(&o.HTMLFile, "html", "", "also write the HTML report to `FILE`")
	f.StringVar(&o.JSONFile, "json", "", "also write the JSON report to `FILE`")
	f.StringVar(&o.MarkdownFile, "markdown", "", "also write the Markdown report to `FILE`")
	f.StringVar(&o.CSVTable, "table", "", "`TABLE` of --format csv: users, connections, handshakes or findings (default users)")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "table, markdown and html formats: list every row of their tables (large captures are otherwise cut to what a person reads, saying what was left out; json, ndjson and csv always have everything)")
	f.StringArrayVar(&o.Users, "user", nil, "table format: only this user (`NAME`: DOMAIN\\user, or user alone); repeatable")
	f.IntSliceVar(&o.Connections, "connection", nil, "table format: only connections with these report `ID`s; repeatable")
	f.BoolVar(&o.KeepQuery, "keep-query", false, "keep query strings in request paths (dropped by default: they often carry session ids)")
	f.BoolVar(&o.Anonymize, "anonymize", false, "replace users, domains, workstations, host names and IP addresses with keyed pseudonyms")
	f.StringVar(&o.AnonymizeKey, "anonymize-key", "", "key for --anonymize (implies it): the same `KEY` gives the same pseudonyms across runs")
	f.StringSliceVar(&o.FailOn, "fail-on", nil, "exit 3 when the report matches one of `CODES`: verdict codes, finding codes, severities (that severity or worse)")
}

// verboseFormats are the formats -v changes: those cut to what a person
// reads without it.
var verboseFormats = []string{"table", "markdown", "html"}

// output is one report to write: a renderer and where its bytes go ("" is
// standard output).
type output struct {
	path     string
	renderer report.Renderer
	// format and opts are what the renderer was made with; main marks the
	// report of --format and -o (capture streams it when it is NDJSON).
	format string
	opts   report.Options
	main   bool
}

// planOutputs turns the report flags into renderers, checking everything
// before any capture is read so that a typo costs nothing.
func planOutputs(ios *IOStreams, opts *reportOptions) ([]output, error) {
	filtered := len(opts.Users) > 0 || len(opts.Connections) > 0
	extras := []struct{ format, path string }{{"html", opts.HTMLFile}, {"json", opts.JSONFile}, {"markdown", opts.MarkdownFile}}
	anyExtra := opts.HTMLFile != "" || opts.JSONFile != "" || opts.MarkdownFile != ""

	outPath := opts.Output
	if outPath == "-" { // -o - is standard output, as for the inputs
		outPath = ""
	}
	// Format names are case-insensitive (report.New folds them too).
	format := strings.ToLower(opts.Format)
	if format == "" {
		format = formatFromName(outPath)
	}
	if format == "" {
		format = "json"
		if (ios.StdoutTTY && outPath == "") || filtered || opts.Verbose {
			format = "table"
		}
	}
	if filtered && format != "table" {
		return nil, fmt.Errorf("--user and --connection narrow the table format: add --format table (or drop --format %s)", format)
	}
	if opts.Verbose && !slices.Contains(verboseFormats, format) {
		return nil, fmt.Errorf("-v lists every row of the table, markdown and html formats; %s always has every row: drop -v", format)
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
	add := func(format, path string, o report.Options, main bool) error {
		if path != "" && seen[path] {
			return fmt.Errorf("%s is named twice: give each report its own file", path)
		}
		seen[path] = true
		// JSON is indented for a person at a terminal, compact for a
		// program reading a file or a pipe (as gh does).
		o.CompactJSON = path != "" || !ios.StdoutTTY
		r, err := report.New(format, o)
		if err != nil {
			return err
		}
		outs = append(outs, output{path: path, renderer: r, format: format, opts: o, main: main})
		return nil
	}
	if opts.Format != "" || opts.Output != "" || !anyExtra {
		main := ro
		main.Color = format == "table" && outPath == "" && ios.StdoutTTY && !ios.NoColor
		if err := add(format, outPath, main, true); err != nil {
			return nil, err
		}
	}
	for _, e := range extras {
		if e.path != "" {
			if err := add(e.format, e.path, ro, false); err != nil {
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

// writeReports writes rep to every output, then applies --fail-on: the
// reports are written whatever it says.
func writeReports(ios *IOStreams, outs []output, failOn *failOn, rep *analyzer.Report) error {
	if err := writeOutputs(ios, outs, rep); err != nil {
		return err
	}
	if reason, ok := failOn.match(rep); ok {
		return &failOnError{reason: reason}
	}
	return nil
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
