package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// analyzeOptions holds everything `ntlmscope analyze` was asked to do.
type analyzeOptions struct {
	IO      *IOStreams
	Files   []string
	Workers int
	Filter  string
	BPFFile string

	// analysisOptions tune the analysis (analysis_flags.go), shared with
	// capture.
	analysisOptions

	// reportOptions are the report flags (outputs.go), shared with
	// capture.
	reportOptions
	// NoProgress turns off the progress bar that a long run shows on a
	// terminal.
	NoProgress bool
}

const analyzeLong = `Analyze reads one or more capture files and reports every NTLM handshake on
every HTTP connection, what went wrong, and why.

Inputs: pcap or pcapng, plain or gzip-compressed (the format is detected from
the content, not the name). "-" reads standard input. Several files are merged
by timestamp (a rotated ring buffer, or captures taken on two hosts); frame
numbers in the report stay those of each file, so they match Wireshark. Files
that follow each other in time (a ring buffer's) are one capture: connections
go on across them, and the report names the file of each frame and each
file's tcp.stream. Two hosts' ring buffers can be given together: files named
alike but for a ring's numbers at their end (dumpcap's name_00001_...,
tcpdump -C's name.pcap1, -G times) form one capture.
Network Monitor and NetScaler nstrace (.cap) and ETW (.etl) traces must be
converted first: the error says how.

Link types: Ethernet (with VLAN tags), Linux cooked (tcpdump -i any), BSD
loopback, raw IP; tunnels from mirror ports (GRE, ERSPAN II/III, VXLAN) are
unwrapped. HTTP is found by content on any port, also inside a proxy's CONNECT
tunnels. TLS is decrypted with --keylog (or the secrets a pcapng embeds), in
tunnels too; without its keys it is counted, not analysed, as HTTP/2 is.

Reports: --format table (the default on a terminal: the verdict first, users,
connections with findings; -v lists every connection, --user and --connection
narrow it), json (the default otherwise: the report model, one document,
indented on a terminal and compact in a file or pipe; jq . indents it),
ndjson (one object per line, "type" connection/handshake/finding/user/summary),
csv (--table users|connections|handshakes|findings), markdown (for a ticket)
or html (one self-contained file with ladder diagrams). On a large capture the
table, markdown and html reports list what a person reads (a few findings of
each kind, the connections with findings) and say what they left out; -v lists
every row of their tables. json, ndjson and csv always hold every row. -o FILE
writes the report to a file (its format follows the extension when --format is
not given); --html, --json and --markdown write more reports from the same run,
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
			defer startMemoryLimit()()
			return analyzeRun(opts)
		},
	}
	f := cmd.Flags()
	addReportFlags(f, &opts.reportOptions)
	addAnalysisFlags(f, &opts.analysisOptions)
	f.StringVarP(&opts.Filter, "filter", "f", "", "analyse only packets matching the tcpdump filter `EXPR` (the subset `ntlmscope capture --help` lists)")
	f.StringVar(&opts.BPFFile, "bpf-file", "", "classic BPF program `FILE`, as tcpdump -ddd prints it, instead of -f")
	f.BoolVar(&opts.NoProgress, "no-progress", false, "do not show the progress bar (shown on a terminal when a run takes more than a second)")
	f.IntVar(&opts.Workers, "workers", runtime.NumCPU(), "connections are sharded over this many goroutines that reassemble and analyse them, behind one that reads the capture (the report is the same for any number; 1 runs everything on one core)")
	return cmd
}

// analyzeRun checks the report options, reads the captures, analyses them,
// writes every report asked for, then applies --fail-on.
func analyzeRun(opts *analyzeOptions) error {
	failOn, err := parseFailOn(opts.FailOn)
	if err != nil {
		return err
	}
	outputs, err := planOutputs(opts.IO, &opts.reportOptions)
	if err != nil {
		return err
	}
	keys, err := loadKeyLogs(opts.KeyLogs, false, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	fileOpts, err := fileFilter(opts.Filter, opts.BPFFile)
	if err != nil {
		return err
	}
	src, err := reassembly.OpenFilesWith(opts.Files, opts.IO.In, fileOpts)
	if err != nil {
		return err
	}
	stopProgress := startProgress(opts.IO, src, opts.NoProgress) // before src is wrapped
	defer stopProgress()
	defer src.Close()

	version, _, _ := buildVersion()
	an := analyzer.New(analyzer.Options{
		RestartWindow: opts.RestartWindow,
		ToolVersion:   version,
		Files:         opts.Files,
	})
	streamStats, err := reassembly.Run(src, an, reassembly.Options{
		IdleTimeout:    opts.IdleTimeout,
		MaxConnections: opts.MaxConns,
		Workers:        opts.Workers,
		KeyLog:         keys,
	})
	barShown := stopProgress() // reading is over: the bar goes before warnings and reports
	if err != nil {
		return err
	}
	srcStats := src.Stats()
	srcStats.Warnings = append(srcStats.Warnings, reassembly.TLSWarnings(streamStats, keys)...)
	srcStats.Warnings = append(srcStats.Warnings, reassembly.ResetWarnings(streamStats)...)
	if streamStats.Evicted > 0 {
		srcStats.Warnings = append(srcStats.Warnings, evictionWarning(streamStats.Evicted, opts.MaxConns, opts.Workers))
	}
	for _, w := range srcStats.Warnings {
		fmt.Fprintln(opts.IO.ErrOut, "warning:", w)
	}
	onTerminal := false
	for _, o := range outputs {
		onTerminal = onTerminal || (o.path == "" && opts.IO.StdoutTTY)
	}
	clearPhase := showPhase(opts.IO, barShown, onTerminal, "diagnosing the connections and writing the report...")
	rep := an.FinishStreaming(srcStats)
	err = writeReports(opts.IO, outputs, failOn, rep)
	clearPhase()
	return err
}
