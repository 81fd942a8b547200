package main

import (
	"fmt"
	"io"

	"github.com/ntlmscope/ntlmscope/reassembly"
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
	if err != nil {
		if !live {
			return nil, fmt.Errorf("--keylog: %w (the file SSLKEYLOGFILE named when the browser or curl ran)", err)
		}
		fmt.Fprintf(errOut, "warning: --keylog: %v; it is read again as it grows\n", err)
	}
	return keys, nil
}
