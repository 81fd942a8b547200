package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams are a command's standard streams and what it knows about them,
// so commands can be run in tests without a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// StdoutTTY and StderrTTY say whether the streams are terminals: colour,
	// progress bars and status lines only appear on one.
	StdoutTTY, StderrTTY bool
	// NoColor is set by the NO_COLOR convention (https://no-color.org).
	NoColor bool
}

func systemIO() *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdoutTTY: isatty.IsTerminal(os.Stdout.Fd()),
		StderrTTY: isatty.IsTerminal(os.Stderr.Fd()),
		NoColor:   noColor,
	}
}

// eraseLine returns the cursor to the start of the line and erases it: the
// status line of capture and the progress bar of analyze redraw with it.
const eraseLine = "\r\x1b[K"
