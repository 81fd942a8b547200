package ntlm

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Crashers found while testing, kept as named regression tests with their
// bytes in testdata/regression (one hex string per .hex file; "#" lines are
// comments). Fuzzer crashers also land in testdata/fuzz/<target>/, which go
// test replays by itself.

func readRegression(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "regression", name))
	if err != nil {
		t.Fatal(err)
	}
	var h strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			h.WriteString(line)
		}
	}
	b, err := hex.DecodeString(h.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// TestRegressionEmptyMechToken: a NegTokenInit whose mechToken is an empty
// OCTET STRING made decodeMechToken index b[0] of an empty slice (found by
// TestPrefixesNeverPanic's one-byte corruptions).
func TestRegressionEmptyMechToken(t *testing.T) {
	b := readRegression(t, "empty-mechtoken.hex")
	tok, err := DecodeToken(SchemeNegotiate, b)
	if err != nil {
		t.Fatal(err)
	}
	if tok.SPNEGO != NegTokenInit || tok.Mech != MechNone || tok.NTLM != nil {
		t.Errorf("got %+v", tok)
	}
}

// TestRegressionMarshalNoVersionNoMIC: Authenticate.Marshal sliced
// msg[72:64] when neither Version nor MIC was set (found by the round-trip
// tests).
func TestRegressionMarshalNoVersionNoMIC(t *testing.T) {
	b := (&Authenticate{}).Marshal()
	if len(b) != authFlagsEnd {
		t.Fatalf("len = %d", len(b))
	}
	m, err := Decode(b)
	if err != nil || m.(*Authenticate).Response != ResponseAnonymous {
		t.Errorf("got %+v, %v", m, err)
	}
}

// TestRegressionFiles replays every file in testdata/regression through both
// decoders.
func TestRegressionFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "regression", "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no regression files")
	}
	for _, f := range files {
		b := readRegression(t, filepath.Base(f))
		for _, err := range []error{decodeErr(b), tokenErr(b)} {
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("%s: %T %v", f, err, err)
			}
		}
	}
}

func decodeErr(b []byte) error { _, err := Decode(b); return err }
func tokenErr(b []byte) error  { _, err := DecodeToken(SchemeNegotiate, b); return err }
