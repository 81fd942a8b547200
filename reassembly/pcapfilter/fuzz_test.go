package pcapfilter

import (
	"errors"
	"testing"

	"golang.org/x/net/bpf"
)

// FuzzParseFilter checks that any input either fails with a *SyntaxError
// or parses to a filter whose canonical form parses back to itself, and
// which compiles, for every link type, to a program the VM accepts and
// runs on a few packets (or is refused as too long).
func FuzzParseFilter(f *testing.F) {
	for _, e := range subsetExprs {
		f.Add(e)
	}
	for _, e := range []string{"tcp port http", "host (10.0.0.1 or not (10.0.0.2 and 10.0.0.3))",
		"src and dst net ::ffff:0:0/96", "((((tcp))))", "not not not udp", "port 0 or 65535-1"} {
		f.Add(e)
	}
	samples := corpus(3, 40)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Parse(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Col < 1 || se.Col > len(expr)+1 {
				t.Fatalf("Parse(%q): error %v is not a *SyntaxError with a column in range", expr, err)
			}
			return
		}
		if flt == nil {
			return
		}
		canon := flt.Canonical()
		again, err := Parse(canon)
		if err != nil || again.Canonical() != canon {
			t.Fatalf("Parse(%q): canonical %q does not parse back: %v", expr, canon, err)
		}
		for _, l := range links {
			prog, err := flt.Compile(l.lt, 0)
			if errors.Is(err, ErrTooLong) {
				continue
			}
			if err != nil {
				t.Fatalf("Compile(%q, %s): %v", expr, l.name, err)
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("Compile(%q, %s): the VM refuses the program: %v", expr, l.name, err)
			}
			for _, p := range samples {
				if _, err := vm.Run(frame(l.lt, p, false)); err != nil {
					t.Fatalf("Run: %v", err)
				}
			}
		}
	})
}
