package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/ntlmscope/ntlmscope/reassembly"
	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
)

// checkCaptureFlags catches usage errors before anything is opened.
func checkCaptureFlags(opts *captureOptions) error {
	switch {
	case opts.Interface == "":
		names := []string{reassembly.AnyInterface}
		if ifs, err := reassembly.Interfaces(); err == nil {
			for _, i := range ifs {
				names = append(names, i.Name)
			}
		}
		return fmt.Errorf("no interface given: use -i IFACE; the interfaces are %s", strings.Join(names, ", "))
	case opts.Filter != "" && opts.BPFFile != "":
		return errors.New("-f and --bpf-file both filter: give one")
	case (opts.RotateMB != 0 || opts.RotateCount != 0) && opts.Write == "":
		return errors.New("--rotate-size and --rotate-count apply to the file of -w: add -w FILE")
	case opts.RotateCount != 0 && opts.RotateMB == 0:
		return errors.New("--rotate-count needs --rotate-size")
	case opts.RotateMB < 0 || opts.RotateCount < 0 || opts.Count < 0 || opts.Duration < 0 || opts.BufferMiB < 0:
		return errors.New("--rotate-size, --rotate-count, --count, --duration and --buffer-size cannot be negative")
	case opts.Snaplen < 68 || opts.Snaplen > pcapfilter.DefaultSnaplen:
		return fmt.Errorf("--snaplen %d: use 68 to %d (HTTP headers need a few hundred bytes; the default keeps everything)", opts.Snaplen, pcapfilter.DefaultSnaplen)
	}
	return nil
}

// parseFilterFlags parses -f, or reads the program of --bpf-file (the
// caller checked that at most one is given). Both nil: no filter. It
// serves any command that filters (analyze can take the same flags).
func parseFilterFlags(expr, bpfFile string) (*pcapfilter.Filter, []bpf.RawInstruction, error) {
	if bpfFile != "" {
		fh, err := os.Open(bpfFile)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read the BPF program: %w", err)
		}
		defer fh.Close()
		prog, err := pcapfilter.ParseProgram(fh)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", bpfFile, err)
		}
		return nil, prog, nil
	}
	f, err := pcapfilter.Parse(expr)
	var se *pcapfilter.SyntaxError
	if errors.As(err, &se) {
		// The caret under the column, on the lines after the message.
		return nil, nil, fmt.Errorf("bad filter: %w\n  %s", err, strings.ReplaceAll(se.Caret(), "\n", "\n  "))
	}
	return f, nil, err
}
