package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/synth"
)

// exitCode is the process's exit status.
type exitCode int

const (
	exitOK    exitCode = 0
	exitError exitCode = 1 // a failed check, or an I/O error
	exitUsage exitCode = 2
)

// options holds what ntlmgen was asked to do.
type options struct {
	Seed    uint64
	Size    string
	Out     string
	Expect  string
	Mix     string
	Profile string
	Clients int
	Users   int
	Rate    float64
	Check   string
}

// parse reads the flags into options.
func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("ntlmgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of every random choice: the same flags write the same bytes")
	fs.StringVar(&o.Size, "size", "200MB", "file size to reach (KB, MB, GB powers of 1000; KiB, MiB, GiB of 1024)")
	fs.StringVar(&o.Out, "o", "", "write the capture to `FILE` (\"-\": standard output)")
	fs.StringVar(&o.Expect, "expect", "", "write the expected counts to `FILE` as JSON (with -check: read them from it)")
	fs.StringVar(&o.Mix, "mix", "", "scenario weights over the profile's, e.g. `balancer=200,plain=0`")
	fs.StringVar(&o.Profile, "profile", "default", "`default` (2,000 clients, 500 users) or small (test captures of a few hundred KB)")
	fs.IntVar(&o.Clients, "clients", 0, "client addresses (0: the profile's)")
	fs.IntVar(&o.Users, "users", 0, "user accounts, at most one per client (0: the profile's)")
	fs.Float64Var(&o.Rate, "rate", 0, "new conversations per second of capture time (0: the profile's)")
	fs.StringVar(&o.Check, "check", "", "compare the ntlmscope JSON report `FILE` with -expect instead of generating")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.Check != "" && o.Expect == "":
		return nil, errors.New("-check needs -expect FILE")
	case o.Check == "" && o.Out == "":
		return nil, errors.New("no output: give -o FILE (or -o - for standard output)")
	}
	return o, nil
}

// config turns the options into a generator configuration.
func (o *options) config() (synth.Config, error) {
	var cfg synth.Config
	switch o.Profile {
	case "default":
		cfg = synth.DefaultConfig()
	case "small":
		cfg = synth.SmallConfig()
	default:
		return cfg, fmt.Errorf("unknown profile %q: use default or small", o.Profile)
	}
	cfg.Seed = o.Seed
	size, err := synth.ParseSize(o.Size)
	if err != nil {
		return cfg, err
	}
	cfg.Size = size
	if cfg.Mix, err = synth.ParseMix(o.Mix, cfg.Mix); err != nil {
		return cfg, err
	}
	if o.Clients > 0 {
		cfg.Clients = o.Clients
	}
	if o.Users > 0 {
		cfg.Users = o.Users
	}
	if o.Rate > 0 {
		cfg.ConnRate = o.Rate
	}
	return cfg, nil
}

func run(args []string, stdout, stderr io.Writer) exitCode {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "ntlmgen:", err)
		return exitUsage
	}
	if o.Check != "" {
		return check(o, stdout, stderr)
	}
	cfg, err := o.config()
	if err != nil {
		fmt.Fprintln(stderr, "ntlmgen:", err)
		return exitUsage
	}
	if err := generate(o, cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "ntlmgen:", err)
		return exitError
	}
	return exitOK
}

// generate writes the capture and the expected counts.
func generate(o *options, cfg synth.Config, stdout, stderr io.Writer) (err error) {
	var w io.Writer = stdout
	if o.Out != "-" {
		f, err := os.Create(o.Out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	start := time.Now()
	exp, err := synth.Generate(w, cfg)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "ntlmgen: %d bytes, %d packets, %d TCP connections (%d HTTP) in %.1fs (%.0f MB/s)\n",
		exp.Bytes, exp.Source.Packets, exp.Source.TCPConnections, exp.Summary.Connections, secs, float64(exp.Bytes)/1e6/secs)
	if o.Expect == "" {
		return nil
	}
	f, err := os.Create(o.Expect)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := exp.WriteJSON(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// check compares a report with the expected counts.
func check(o *options, stdout, stderr io.Writer) exitCode {
	ef, err := os.Open(o.Expect)
	if err != nil {
		fmt.Fprintln(stderr, "ntlmgen:", err)
		return exitError
	}
	defer ef.Close()
	exp, err := synth.ReadExpected(ef)
	if err != nil {
		fmt.Fprintf(stderr, "ntlmgen: %s: %v\n", o.Expect, err)
		return exitError
	}
	rf, err := os.Open(o.Check)
	if err != nil {
		fmt.Fprintln(stderr, "ntlmgen:", err)
		return exitError
	}
	defer rf.Close()
	rc, err := synth.ReadReportCounts(bufio.NewReader(rf))
	if err != nil {
		fmt.Fprintf(stderr, "ntlmgen: %s: %v\n", o.Check, err)
		return exitError
	}
	bad, causes, err := exp.Compare(rc)
	if err != nil {
		fmt.Fprintln(stderr, "ntlmgen:", err)
		return exitError
	}
	code := exitOK
	if len(bad) == 0 {
		fmt.Fprintln(stdout, "PASS: every expected source and summary count matches")
	} else {
		code = exitError
		fmt.Fprintf(stdout, "FAIL: %d count(s) differ\n", len(bad))
		for _, m := range bad {
			fmt.Fprintln(stdout, "  "+m.String())
		}
	}
	// Causes are inferred from evidence other conversations can blur:
	// shown, never a failure (see synth.Expected.Causes).
	if len(causes) == 0 {
		fmt.Fprintln(stdout, "verdict causes match the construction")
	} else {
		fmt.Fprintln(stdout, "verdict causes differ from the construction (informational):")
		for _, m := range causes {
			fmt.Fprintln(stdout, "  "+m.String())
		}
	}
	return code
}
