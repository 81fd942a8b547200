package report

import (
	"fmt"
	"io"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// ANSI attributes the table format uses; printer.paint drops them when
// colour is off.
const (
	ansiBold   = "1"
	ansiRed    = "31"
	ansiGreen  = "32"
	ansiYellow = "33"
	ansiMag    = "35;1"
)

// printer writes lines to a terminal (or a file), remembering the first
// write error so rendering code stays linear.
type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, s)
	}
}

// fact writes "Label       value", the label padded so values align.
func (p *printer) fact(label, value string) {
	p.line(fmt.Sprintf("%-11s %s", label, value))
}

// paint wraps s in an ANSI attribute when colour is on.
func (p *printer) paint(attr, s string) string {
	if !p.color || attr == "" {
		return s
	}
	return "\x1b[" + attr + "m" + s + "\x1b[0m"
}

// severity writes a severity, coloured by how bad it is.
func (p *printer) severity(s string) string {
	return p.paint(map[string]string{analyzer.SeverityCritical: ansiMag, analyzer.SeverityError: ansiRed,
		analyzer.SeverityWarning: ansiYellow}[s], s)
}

// verdictColor: green when NTLM works, red when something breaks it,
// yellow when the capture cannot tell, bold otherwise.
func verdictColor(code string) string {
	switch code {
	case analyzer.VerdictHealthy:
		return ansiGreen + ";1"
	case analyzer.VerdictInconclusive:
		return ansiYellow + ";1"
	case analyzer.VerdictNoNTLM:
		return ansiBold
	}
	return ansiRed + ";1"
}
