package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// interfacesOptions holds what `ntlmscope interfaces` was asked to do.
type interfacesOptions struct {
	IO *IOStreams
	// list returns the interfaces (reassembly.Interfaces; tests replace it).
	list func() ([]reassembly.LiveInterface, error)
}

func newCmdInterfaces(ios *IOStreams, runF func(*interfacesOptions) error) *cobra.Command {
	opts := &interfacesOptions{IO: ios, list: reassembly.Interfaces}
	return &cobra.Command{
		Use:   "interfaces",
		Short: "List the interfaces capture can sniff",
		Long: `Interfaces lists the network interfaces for ntlmscope capture -i: name, index,
state, how a capture on it records packets (Ethernet, or raw IP for interfaces
without an Ethernet header), and addresses. "any" captures on all of them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return interfacesRun(opts)
		},
	}
}

// interfacesRun prints one line per interface.
func interfacesRun(opts *interfacesOptions) error {
	ifs, err := opts.list()
	if err != nil {
		return fmt.Errorf("cannot list the interfaces: %w", err)
	}
	return writeInterfaces(opts.IO.Out, ifs)
}

// writeInterfaces prints the table: "any" first, then every interface.
func writeInterfaces(w io.Writer, ifs []reassembly.LiveInterface) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tINDEX\tFLAGS\tCAPTURED AS\tADDRESSES")
	fmt.Fprintln(tw, "any\t-\tup\traw IP\tall interfaces")
	for _, i := range ifs {
		addrs := make([]string, 0, len(i.Addrs))
		for _, a := range i.Addrs {
			addrs = append(addrs, a.String())
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", sanitizeName(i.Name), i.Index, flagsText(i.Flags), linkName(i.LinkType), strings.Join(addrs, " "))
	}
	return tw.Flush()
}

// flagsText lists the flags that matter for a capture.
func flagsText(f net.Flags) string {
	var out []string
	for _, x := range []struct {
		flag net.Flags
		name string
	}{{net.FlagUp, "up"}, {net.FlagRunning, "running"}, {net.FlagLoopback, "loopback"}, {net.FlagPointToPoint, "point-to-point"}} {
		if f&x.flag != 0 {
			out = append(out, x.name)
		}
	}
	if f&net.FlagUp == 0 {
		out = append([]string{"DOWN"}, out...)
	}
	return strings.Join(out, ",")
}

// sanitizeName replaces control characters in an interface name (a name
// can be set to almost anything) before it reaches a terminal.
func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
