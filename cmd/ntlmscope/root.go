package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

const rootLong = `ntlmscope reads a packet capture (or sniffs an interface), follows every NTLM
handshake on every HTTP connection, and says in plain words why logins through
a load balancer or proxy fail: the balancer moved the handshake to another
backend, the client broke it, or the credentials are wrong.

NTLM authenticates a TCP connection, not a request. A balancer that sends the
three legs of one handshake over different backend connections breaks it, and
users see password prompts, slow pages and floods of 401s.

Every finding comes with evidence you can paste into Wireshark
(tcp.stream eq N, frame numbers). Reports never contain password hashes,
challenges or raw Authorization tokens: they are safe to attach to a ticket.

Exit codes: 0 ran (whatever it found), 1 usage or input error,
3 the report matched --fail-on.

Memory: analyze keeps its heap under 224 MiB, or one and a half times
what it holds live once that is more, by collecting garbage more often;
set GOMEMLIMIT (e.g. GOMEMLIMIT=1GiB) to trade memory for speed.`

// newCmdRoot builds the command tree; prof receives the hidden profiling
// flags (run stops profiling whatever the outcome).
func newCmdRoot(ios *IOStreams, prof *profileOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "ntlmscope",
		Short: "Diagnose NTLM over HTTP through load balancers and proxies, from packet captures",
		Long:  rootLong,
		Example: `  ntlmscope analyze trace.pcapng
  ntlmscope analyze --format json -o report.json trace.pcapng
  tcpdump -i any -w - 'tcp port 80' | ntlmscope analyze -`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return prof.start()
		},
	}
	addProfileFlags(root, prof)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.AddCommand(newCmdAnalyze(ios, nil))
	root.AddCommand(newCmdVersion(ios))
	root.AddCommand(newCmdCapture(ios, nil), newCmdInterfaces(ios, nil))
	return root
}

// run executes the command line and maps the outcome to an exit code.
func run(args []string, ios *IOStreams) exitCode {
	prof := &profileOptions{}
	root := newCmdRoot(ios, prof)
	root.SetArgs(args)
	err := root.Execute()
	// Not in a PostRun hook: cobra skips those when the command fails, and
	// a profile of a run that ended in --fail-on or an input error is
	// still wanted.
	if perr := prof.stop(); perr != nil && err == nil {
		err = perr
	}
	var failOn *failOnError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &failOn):
		fmt.Fprintln(ios.ErrOut, "ntlmscope:", err)
		return exitFailOn
	default:
		fmt.Fprintln(ios.ErrOut, "ntlmscope:", err)
		return exitError
	}
}
