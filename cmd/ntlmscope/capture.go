package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/reassembly"
	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
	"github.com/ntlmscope/ntlmscope/report"
)

// captureOptions holds everything `ntlmscope capture` was asked to do.
type captureOptions struct {
	IO        *IOStreams
	Interface string
	Filter    string
	BPFFile   string
	Snaplen   int
	Promisc   bool
	BufferMiB int

	Write       string
	RotateMB    int64
	RotateCount int

	Duration time.Duration
	Count    int64

	// reportOptions are the report flags (outputs.go), shared with
	// analyze.
	reportOptions

	// analysisOptions tune the analysis (analysis_flags.go), shared with
	// analyze.
	analysisOptions

	// stop ends the capture when closed, as SIGTERM does (tests).
	stop <-chan struct{}
	// findingsEvery is how often new findings are looked for
	// (findingsEvery when 0; tests shorten it).
	findingsEvery time.Duration
}

const captureLong = `Capture sniffs an interface and reports what analyze would report on the same
packets: a sysadmin reproduces a failing login while capture runs, stops it
with Ctrl-C, and attaches the report and the saved packets to the ticket.

It stops on Ctrl-C, SIGTERM, --duration or --count: every open connection is
analysed as it stands, the report is written, and the capture file is closed
cleanly. Nothing is lost: the packets the kernel already queued are read first.

While it runs, each finding is printed on standard error as it is detected:
one line with its time, severity, code, message and Wireshark filter
(tcp.stream eq N). A finding is detected once its evidence is complete: a
failed login when the response to its Type 3 arrives, an abandoned handshake
when its connection ends. Every 2 seconds the traffic seen so far is
diagnosed, so a line follows its evidence within about 2 seconds (later on a
capture of hours, where that diagnosis is kept under a tenth of a core); a
finding is printed once, when first seen, though its count may grow. These
lines are provisional: later traffic can change a cause (a failed login
turns into an intermittent failure when the same user then succeeds), and
the report written at the stop is the one to keep. On a terminal a status
line shows packets, kernel drops, open connections, logins and findings so
far.

With --format ndjson the report's stream (standard output, or the -o file,
written as the capture goes) gets a "live_finding" record for each finding
as it is detected (the members of a "finding" record), then the final
report's records (connection, handshake, finding, user, summary) at the stop.

Reports are those of analyze, with the same options: --format and -o for the
main one, --html, --json and --markdown for more, --keep-query, --anonymize
(the live lines and records too) and --fail-on, which makes the command exit
3 once the reports are written (see ntlmscope analyze --help).

Interfaces: -i NAME, or -i any for all of them (see ntlmscope interfaces).
Loopback packets are captured once, as tcpdump does. Ethernet and loopback
interfaces are captured with their Ethernet header; other interfaces and "any"
as raw IP (Wireshark shows which interface each packet came from).

Filter (-f, or the words after the options, as with tcpdump) is tcpdump syntax,
compiled to BPF and applied in the kernel. Supported: ` + pcapfilter.Supported + `.
Anything else is refused; compile it with tcpdump and pass the program:
  tcpdump -y EN10MB -ddd 'vlan and tcp port 80' > f.bpf   (Ethernet interfaces)
  tcpdump -y RAW -ddd 'tcp port 80' > f.bpf               (-i any, tun, wireguard)
  ntlmscope capture -i eth0 --bpf-file f.bpf

-w FILE saves every captured packet as pcapng (owner-readable only: it holds
NTLM responses, which can be cracked); ntlmscope analyze FILE gives the same
report later. --rotate-size starts a new file every N MB (FILE_00001.pcapng,
FILE_00002.pcapng...), --rotate-count keeps only the last N.

Capturing needs CAP_NET_RAW: run as root, or once
  setcap cap_net_raw,cap_net_admin+eip $(which ntlmscope)`

func newCmdCapture(ios *IOStreams, runF func(*captureOptions) error) *cobra.Command {
	opts := &captureOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "capture -i IFACE [flags] [FILTER]",
		Short: "Sniff an interface and diagnose NTLM handshakes live",
		Long:  captureLong,
		Example: `  sudo ntlmscope capture -i eth0 -w login.pcapng 'tcp port 80 or tcp port 8080'
  sudo ntlmscope capture -i any -f 'host 10.0.0.5 and port 80' --duration 5m -o report.json
  sudo ntlmscope capture -i lo --format ndjson -c 10000`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				if opts.Filter != "" {
					return errors.New("give the filter once: with -f or after the options, not both")
				}
				opts.Filter = strings.Join(args, " ")
			}
			if runF != nil {
				return runF(opts)
			}
			return captureRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Interface, "interface", "i", "", "capture on `IFACE` (\"any\" for all; see ntlmscope interfaces)")
	f.StringVarP(&opts.Filter, "filter", "f", "", "tcpdump filter `EXPR` (supported subset: see above)")
	f.StringVar(&opts.BPFFile, "bpf-file", "", "classic BPF program `FILE`, as tcpdump -ddd prints it, instead of -f")
	f.IntVarP(&opts.Snaplen, "snaplen", "s", pcapfilter.DefaultSnaplen, "keep at most `N` bytes of each packet")
	f.BoolVar(&opts.Promisc, "promisc", false, "put the interface in promiscuous mode (see traffic not addressed to this host)")
	f.IntVarP(&opts.BufferMiB, "buffer-size", "B", reassembly.DefaultLiveBuffer>>20, "kernel ring buffer in `MiB`: raise it if the kernel drops packets")
	f.StringVarP(&opts.Write, "write", "w", "", "save every captured packet as pcapng to `FILE`")
	f.Int64Var(&opts.RotateMB, "rotate-size", 0, "with -w: start a new file every `N` MB (1,000,000 bytes)")
	f.IntVar(&opts.RotateCount, "rotate-count", 0, "with --rotate-size: keep only the last `N` files")
	f.DurationVar(&opts.Duration, "duration", 0, "stop after this long (e.g. 10m)")
	f.Int64VarP(&opts.Count, "count", "c", 0, "stop after `N` packets")
	addReportFlags(f, &opts.reportOptions)
	addAnalysisFlags(f, &opts.analysisOptions)
	return cmd
}

// captureRun captures until stopped, printing findings as they are
// detected, then reports as analyze does.
func captureRun(opts *captureOptions) error {
	if err := checkCaptureFlags(opts); err != nil {
		return err
	}
	failOn, err := parseFailOn(opts.FailOn)
	if err != nil {
		return err
	}
	outs, err := planOutputs(opts.IO, &opts.reportOptions)
	if err != nil {
		return err
	}
	stream, outs := splitStream(outs)
	var status *liveStatus        // set once the capture runs
	var r *reassembly.Reassembler // likewise
	src, pw, err := startCapture(opts, func(now time.Time) {
		if status != nil {
			status.tick()
		}
		if r != nil {
			// A quiet interface: idle connections still end on time.
			r.Tick(now)
		}
	})
	if err != nil {
		return err
	}
	defer src.Close()
	streamW, closeStream, err := openStream(opts.IO, stream)
	if err != nil {
		return err
	}
	defer closeStream()

	version, _, _ := buildVersion()
	an := analyzer.New(analyzer.Options{RestartWindow: opts.RestartWindow, ToolVersion: version})
	counts := newLiveCounter(an)
	sharing := outputSharing(outs, stream)
	live := newLiveFindings(an, report.NewLiveWriter(streamW, sharing), cmp.Or(opts.findingsEvery, findingsEvery))
	status = newLiveStatus(opts.IO, src.Stats, counts, pw)
	status.findings = live
	release := stopOn(opts, src)
	defer release()
	fmt.Fprintf(opts.IO.ErrOut, "capturing on %s (%s)%s; Ctrl-C to stop\n", opts.Interface, linkName(src.LinkType()), filterNote(opts))

	keys, err := loadKeyLogs(opts.KeyLogs, true, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	r = reassembly.NewReassembler(counts, reassembly.Options{IdleTimeout: opts.IdleTimeout, MaxConnections: opts.MaxConns, KeyLog: keys})
	live.start()
	fatal := captureLoop(src, r, status)
	// Stopped: flush every open connection through the analyzer, then
	// release the ring (the reader has returned) and close the file.
	release()
	r.Finish()
	live.stop() // no snapshot after FinishStreaming
	st := src.Stats()
	st.Warnings = append(st.Warnings, reassembly.TLSWarnings(r.Stats(), keys)...)
	st.Warnings = append(st.Warnings, reassembly.ResetWarnings(r.Stats())...)
	if ev := r.Stats().Evicted; ev > 0 {
		st.Warnings = append(st.Warnings, evictionWarning(ev, opts.MaxConns, 1))
	}
	src.Close()
	status.clear()
	if pw != nil {
		if err := pw.Close(st); err != nil && fatal == nil {
			fatal = fmt.Errorf("cannot finish the capture file: %w", err)
		}
	}
	rep := an.FinishStreaming(st)
	status.println(live.final(rep)) // what the last seconds found
	for _, w := range st.Warnings {
		fmt.Fprintln(opts.IO.ErrOut, "warning:", w)
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d packets captured%s\n", st.Packets, savedNote(pw))
	if stream != nil {
		if err := stream.renderer.Render(streamW, rep); err != nil {
			return fmt.Errorf("cannot write the report: %w", err)
		}
		if err := closeStream(); err != nil {
			return fmt.Errorf("cannot write the report: %w", err)
		}
	}
	err = writeReports(opts.IO, outs, failOn, rep)
	var matched *failOnError
	if fatal != nil && (err == nil || errors.As(err, &matched)) {
		return fatal // the report of what was captured is written even so
	}
	return err
}

// startCapture compiles the filter, opens the capture and, once it runs,
// creates the capture file: a capture refused for want of privilege leaves
// a previous file alone.
func startCapture(opts *captureOptions, idle func(now time.Time)) (*reassembly.LiveSource, *reassembly.PcapngWriter, error) {
	filter, prog, err := parseFilterFlags(opts.Filter, opts.BPFFile)
	if err != nil {
		return nil, nil, err
	}
	src, err := reassembly.OpenLive(reassembly.LiveOptions{
		Interface:  opts.Interface,
		Filter:     filter,
		Program:    prog,
		Snaplen:    opts.Snaplen,
		Promisc:    opts.Promisc,
		BufferSize: opts.BufferMiB << 20,
		MaxPackets: opts.Count,
		Idle:       idle,
	})
	if err != nil {
		return nil, nil, err
	}
	if opts.Write == "" {
		return src, nil, nil
	}
	pw, err := reassembly.CreatePcapng(reassembly.PcapngOptions{
		Path: opts.Write, RotateSize: opts.RotateMB * 1_000_000, RotateCount: opts.RotateCount,
		Filter: captureFilterText(opts), Snaplen: opts.Snaplen, Interface: src.Interface(),
	})
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("cannot write the capture file: %w", err)
	}
	src.SetWriter(pw)
	return src, pw, nil
}

// captureLoop feeds the reassembler until the source ends. Its error is
// the source's fatal one (a write error).
func captureLoop(src *reassembly.LiveSource, r *reassembly.Reassembler, status *liveStatus) error {
	for {
		p, err := src.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		r.Packet(p)
		status.tick()
	}
}

// stopOn stops src on SIGINT, SIGTERM, --duration or opts.stop, and
// returns the function that releases the signals once the capture is over.
// A signal after that (during the report) gets the default handling: it
// kills the process.
func stopOn(opts *captureOptions, src *reassembly.LiveSource) (release func()) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	timer := time.NewTimer(opts.Duration)
	if opts.Duration <= 0 {
		timer.Stop()
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-opts.stop:
		}
		src.Stop()
	}()
	return func() { timer.Stop(); cancel() }
}

// captureFilterText is the filter as recorded in the capture file.
func captureFilterText(opts *captureOptions) string {
	if opts.BPFFile != "" {
		return "BPF program " + opts.BPFFile
	}
	return opts.Filter
}

func filterNote(opts *captureOptions) string {
	if t := captureFilterText(opts); t != "" {
		return ", filter " + t
	}
	return ""
}

func savedNote(pw *reassembly.PcapngWriter) string {
	if pw == nil {
		return ""
	}
	files := pw.Files()
	if len(files) == 1 {
		return ", saved to " + files[0]
	}
	return fmt.Sprintf(", saved to %s ... %s (%d files)", files[0], files[len(files)-1], len(files))
}

func linkName(lt layers.LinkType) string {
	if lt == layers.LinkTypeEthernet {
		return "Ethernet"
	}
	return "raw IP"
}
