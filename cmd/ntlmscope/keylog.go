package main

import (
	"fmt"
	"io"

	"github.com/ntlmscope/ntlmscope/reassembly"
	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
)

const keylogUsage = "TLS key log `FILE` (NSS format, as SSLKEYLOGFILE writes it) to decrypt HTTPS; repeatable. " +
	"Secrets embedded in a pcapng (editcap --inject-secrets) are used without it"

// loadKeyLogs reads the --keylog files. analyze needs them now (a wrong
// path is a typo: fail); capture starts before the browser has written its
// key log, so there a file that cannot be read yet is a warning, and the
// key log is re-read as it grows.
func loadKeyLogs(paths []string, live bool, errOut io.Writer) (*reassembly.KeyLog, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	keys, err := reassembly.LoadKeyLogs(paths...)
	if live {
		keys.Follow() // the browser writes it while the capture runs
	}
	if err != nil {
		if !live {
			return nil, fmt.Errorf("--keylog: %w (the file SSLKEYLOGFILE named when the browser or curl ran)", err)
		}
		fmt.Fprintf(errOut, "warning: --keylog: %v; it is read again as it grows\n", err)
	}
	return keys, nil
}

// fileFilter turns -f / --bpf-file into file-reading options: the same
// filter capture gives the kernel, run on each record of the files.
func fileFilter(expr, bpfFile string) (reassembly.FileOptions, error) {
	if expr == "" && bpfFile == "" {
		return reassembly.FileOptions{}, nil
	}
	if expr != "" && bpfFile != "" {
		return reassembly.FileOptions{}, fmt.Errorf("give -f or --bpf-file, not both")
	}
	f, prog, err := parseFilterFlags(expr, bpfFile)
	if err != nil {
		return reassembly.FileOptions{}, err
	}
	if prog != nil {
		if _, err := pcapfilter.NewProgramMatcher(prog); err != nil {
			return reassembly.FileOptions{}, fmt.Errorf("%s: %w", bpfFile, err)
		}
		return reassembly.FileOptions{NewMatcher: func() *pcapfilter.Matcher {
			m, _ := pcapfilter.NewProgramMatcher(prog)
			return m
		}}, nil
	}
	return reassembly.FileOptions{NewMatcher: func() *pcapfilter.Matcher { return pcapfilter.NewMatcher(f) }}, nil
}
