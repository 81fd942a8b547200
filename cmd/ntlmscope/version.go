package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newCmdVersion(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the source revision ntlmscope was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return versionRun(ios.Out)
		},
	}
}

// buildVersion returns the module version and VCS revision recorded in the
// binary by the Go toolchain.
func buildVersion() (version, revision string, modified bool) {
	version = "(devel)"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version, "", false
	}
	if info.Main.Version != "" {
		version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return version, revision, modified
}

func versionRun(w io.Writer) error {
	v, rev, modified := buildVersion()
	line := "ntlmscope " + v
	if rev != "" {
		line += " (" + rev
		if modified {
			line += ", modified"
		}
		line += ")"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
