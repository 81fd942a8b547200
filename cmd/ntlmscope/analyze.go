package main

import (
	"fmt"
	"io"
	"os"
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
	Format        string
	Output        string
	RestartWindow time.Duration
	IdleTimeout   time.Duration
	MaxConns      int
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
counted but not analysed.`

func newCmdAnalyze(ios *IOStreams, runF func(*analyzeOptions) error) *cobra.Command {
	opts := &analyzeOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "analyze FILE...",
		Short: "Diagnose NTLM handshakes in capture files",
		Long:  analyzeLong,
		Example: `  ntlmscope analyze trace.pcapng
  ntlmscope analyze --format json -o report.json client.pcapng balancer.pcapng
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
	f.StringVar(&opts.Format, "format", "", "output format: "+report.FormatList()+" (default table on a terminal, json otherwise)")
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.DurationVar(&opts.RestartWindow, "restart-window", 30*time.Second, "a new handshake by the same client within this time after a failed one counts as a restart")
	f.DurationVar(&opts.IdleTimeout, "idle-timeout", 5*time.Minute, "end a connection idle this long in capture time")
	f.IntVar(&opts.MaxConns, "max-connections", 250_000, "connections tracked at once; the least recently active are evicted (and counted) beyond it")
	return cmd
}

// analyzeRun reads the captures, analyses them and renders the report.
func analyzeRun(opts *analyzeOptions) error {
	format := opts.Format
	if format == "" {
		format = "json"
		if opts.IO.StdoutTTY && opts.Output == "" {
			format = "table"
		}
	}
	renderer, err := report.New(format, report.Options{Color: opts.IO.StdoutTTY && !opts.IO.NoColor && opts.Output == ""})
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

	var w io.Writer = opts.IO.Out
	if opts.Output != "" {
		f, err := os.Create(opts.Output)
		if err != nil {
			return fmt.Errorf("cannot write the report: %w", err)
		}
		defer f.Close()
		w = f
	}
	return renderer.Render(w, rep)
}
