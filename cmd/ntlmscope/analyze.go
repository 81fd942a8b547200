package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/reassembly"
	"github.com/ntlmscope/ntlmscope/report"
)

// analyzeOptions holds everything `ntlmscope analyze` was asked to do.
type analyzeOptions struct {
	IO            *IOStreams
	Files         []string
	RestartWindow time.Duration
	IdleTimeout   time.Duration
	MaxConns      int

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
	// Verbose, Users and Connections shape the table format.
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

const analyzeLong = `Analyze reads one or more capture files and reports every NTLM handshake on
every HTTP connection, what went wrong, and why.

Inputs: pcap or pcapng, plain or gzip-compressed (the format is detected from
the content, not the name). "-" reads standard input. Several files are merged
by timestamp (a rotated ring buffer, or captures taken on two hosts); frame
numbers in the report stay those of each file, so they match Wireshark.
Network Monitor (.cap) and ETW (.etl) traces must be converted first: the error
says how.

Link types: Ethernet (with VLAN tags), Linux cooked (tcpdump -i any), BSD
loopback, raw IP; tunnels from mirror ports (GRE, ERSPAN II/III, VXLAN) are
unwrapped. HTTP is found by content on any port. TLS and HTTP/2 connections are
counted but not analysed.

Reports: --format table (the default on a terminal: the verdict first, users,
connections with findings; -v lists every connection, --user and --connection
narrow it), json (the default otherwise: the report model, one document),
ndjson (one object per line, "type" connection/handshake/finding/user/summary),
csv (--table users|connections|handshakes|findings), markdown (for a ticket)
or html (one self-contained file with ladder diagrams). -o FILE writes the
report to a file (its format follows the extension when --format is not
given); --html, --json and --markdown write more reports from the same run,
and then nothing goes to standard output unless --format or -o asks for it.

Sharing: reports never hold password hashes, challenges, session keys or
Authorization tokens. Query strings are dropped from request paths unless
--keep-query. --anonymize replaces users, domains, workstations, host names,
IP addresses and file names with pseudonyms made with a keyed hash: stable
within a run, and across runs given the same --anonymize-key (without it a
random key is drawn). Keep the key secret: it lets its holder test guesses.
The mapping is never written.

Exit codes:
  0  the analysis ran, whatever it found
  1  usage error, or an input that could not be read
  3  the report matched --fail-on, a comma-separated list of
       verdict codes: ` + verdictCodesWrapped + `
       finding codes, e.g. TYPE3_ROUTED_TO_OTHER_BACKEND, AUTH_FAILED
       severities: info, warning, error, critical (a finding of that
         severity or worse)
     The reports are written first.`

func newCmdAnalyze(ios *IOStreams, runF func(*analyzeOptions) error) *cobra.Command {
	opts := &analyzeOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "analyze FILE...",
		Short: "Diagnose NTLM handshakes in capture files",
		Long:  analyzeLong,
		Example: `  ntlmscope analyze trace.pcapng
  ntlmscope analyze --format json -o report.json client.pcapng balancer.pcapng
  ntlmscope analyze --html report.html --markdown ticket.md --anonymize trace.pcapng
  ntlmscope analyze --format csv --table handshakes trace.pcapng > handshakes.csv
  ntlmscope analyze --fail-on balancer-breaks-ntlm,error -o /dev/null trace.pcapng
  tcpdump -i any -w - 'tcp port 80' | ntlmscope analyze -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("no capture file given: run `ntlmscope analyze FILE` (or `-` for standard input)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return analyzeRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "", "report `FORMAT`: "+report.FormatList()+" (default table on a terminal, json otherwise)")
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.StringVar(&opts.HTMLFile, "html", "", "also write the HTML report to `FILE`")
	f.StringVar(&opts.JSONFile, "json", "", "also write the JSON report to `FILE`")
	f.StringVar(&opts.MarkdownFile, "markdown", "", "also write the Markdown report to `FILE`")
	f.StringVar(&opts.CSVTable, "table", "", "`TABLE` of --format csv: users, connections, handshakes or findings (default users)")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "table format: list every connection, not only those with findings")
	f.StringArrayVar(&opts.Users, "user", nil, "table format: only this user (`NAME`: DOMAIN\\user, or user alone); repeatable")
	f.IntSliceVar(&opts.Connections, "connection", nil, "table format: only connections with these report `ID`s; repeatable")
	f.BoolVar(&opts.KeepQuery, "keep-query", false, "keep query strings in request paths (dropped by default: they often carry session ids)")
	f.BoolVar(&opts.Anonymize, "anonymize", false, "replace users, domains, workstations, host names and IP addresses with keyed pseudonyms")
	f.StringVar(&opts.AnonymizeKey, "anonymize-key", "", "key for --anonymize (implies it): the same `KEY` gives the same pseudonyms across runs")
	f.StringSliceVar(&opts.FailOn, "fail-on", nil, "exit 3 when the report matches one of `CODES`: verdict codes, finding codes, severities (that severity or worse)")
	f.DurationVar(&opts.RestartWindow, "restart-window", 30*time.Second, "a new handshake by the same client within this time after a failed one counts as a restart")
	f.DurationVar(&opts.IdleTimeout, "idle-timeout", 5*time.Minute, "end a connection idle this long in capture time")
	f.IntVar(&opts.MaxConns, "max-connections", 250_000, "connections tracked at once; the least recently active are evicted (and counted) beyond it")
	return cmd
}

// analyzeRun checks the report options, reads the captures, analyses them,
// writes every report asked for, then applies --fail-on.
func analyzeRun(opts *analyzeOptions) error {
	failOn, err := parseFailOn(opts.FailOn)
	if err != nil {
		return err
	}
	outputs, err := planOutputs(opts)
	if err != nil {
		return err
	}
	src, err := reassembly.OpenFiles(opts.Files, opts.IO.In)
	if err != nil {
		return err
	}
	defer src.Close()

	version, _, _ := buildVersion()
	an := analyzer.New(analyzer.Options{
		RestartWindow: opts.RestartWindow,
		ToolVersion:   version,
		Files:         opts.Files,
	})
	_, err = reassembly.Run(src, an, reassembly.Options{
		IdleTimeout:    opts.IdleTimeout,
		MaxConnections: opts.MaxConns,
	})
	if err != nil {
		return err
	}
	rep := an.Finish(src.Stats())

	if err := writeOutputs(opts.IO, outputs, rep); err != nil {
		return err
	}
	if reason, ok := failOn.match(rep); ok {
		return &failOnError{reason: reason}
	}
	return nil
}

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
// report where a previous one was.
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
