package pcapfilter

import (
	"errors"
	"fmt"
	"strings"
)

// Supported sums up the subset, for error messages and help texts.
const Supported = "ip, ip6, tcp, udp; [ip|ip6] [src|dst] host ADDR / net ADDR/LEN; " +
	"[tcp|udp] [src|dst] port N / portrange N-M; and (&&), or (||), not (!), parentheses"

// bpfFileHint tells where to go for the rest of tcpdump's syntax.
const bpfFileHint = "for other tcpdump syntax, compile it with `tcpdump -y LINKTYPE -ddd 'EXPR' > f.bpf` and pass --bpf-file f.bpf"

// Errors a *SyntaxError wraps, for callers that test with errors.Is.
var (
	// ErrSyntax: the expression is not well formed.
	ErrSyntax = errors.New("syntax error")
	// ErrUnsupported: valid tcpdump syntax outside the subset.
	ErrUnsupported = errors.New("not in the supported subset")
	// ErrLinkType: the filter cannot be compiled for a link type.
	ErrLinkType = errors.New("link type not supported by the filter compiler")
	// ErrTooLong: the program does not fit classic BPF's jumps or length.
	ErrTooLong = errors.New("filter too long for classic BPF")
)

// SyntaxError is an expression that does not parse, or lies outside the
// subset. Col is 1-based, in bytes.
type SyntaxError struct {
	Expr string
	Col  int
	Msg  string
	Kind error // ErrSyntax or ErrUnsupported
}

// Error returns one line: "filter: column 9: ...".
func (e *SyntaxError) Error() string {
	s := fmt.Sprintf("filter: column %d: %s", e.Col, e.Msg)
	if e.Kind == ErrUnsupported {
		s += " (supported: " + Supported + "; " + bpfFileHint + ")"
	}
	return s
}

// Unwrap returns Kind.
func (e *SyntaxError) Unwrap() error { return e.Kind }

// Caret returns the expression and a caret under the column, two lines, for
// a terminal.
func (e *SyntaxError) Caret() string {
	col := min(max(e.Col, 1), len(e.Expr)+1)
	return e.Expr + "\n" + strings.Repeat(" ", col-1) + "^"
}
