package ntlm

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The public vectors live beside the repository, in ../shared (never copied
// into the repo). Tests that need them skip when the file is absent, unless
// NTLMSCOPE_REQUIRE_SHARED=1.
var vectorsPath = filepath.Join("..", "..", "shared", "vectors", "NTLM-VECTORS.md")

// vector is one "### ID" section of NTLM-VECTORS.md.
type vector struct {
	ID      string
	Note    string
	Base64  string
	Hex     string
	Decoded map[string]string // "Decoded:" block, key: value
	Tshark  map[string]string // "tshark (single message):" block, field = value
	Seq     map[int]map[string]string
	Bytes   []byte
}

// readVectorsFile returns the vectors file, or nil when it is absent and not
// required.
func readVectorsFile(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		if os.Getenv("NTLMSCOPE_REQUIRE_SHARED") == "1" {
			tb.Fatalf("NTLMSCOPE_REQUIRE_SHARED=1 but the shared vectors are unreadable: %v", err)
		}
		return nil
	}
	return b
}

// loadVectors parses NTLM-VECTORS.md, skipping the test when it is absent.
func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw := readVectorsFile(t)
	if raw == nil {
		t.Skipf("shared vectors not found at %s (they sit beside the repo in ../shared); set NTLMSCOPE_REQUIRE_SHARED=1 to make this fatal", vectorsPath)
	}
	vs, err := parseVectors(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", vectorsPath, err)
	}
	return vs
}

// parseVectors reads the markdown: sections "### ID", a "* Note:" bullet,
// fenced blocks after "base64:", "hex:", "Decoded:", "tshark (single
// message):" and "tshark (sequence...):".
func parseVectors(raw []byte) ([]vector, error) {
	var out []vector
	var cur *vector
	block := "" // label of the fenced block being read
	inFence := false
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	label := ""
	for sc.Scan() {
		line := sc.Text()
		if inFence {
			if line == "```" {
				inFence = false
				continue
			}
			if cur == nil {
				continue
			}
			switch {
			case block == "base64:":
				cur.Base64 += strings.TrimSpace(line)
			case block == "hex:":
				cur.Hex += strings.TrimSpace(line)
			case block == "Decoded:":
				k, v, ok := strings.Cut(line, ":")
				if ok {
					cur.Decoded[k] = strings.TrimPrefix(v, " ")
				}
			case block == "tshark (single message):":
				f, v, ok := strings.Cut(strings.TrimPrefix(line, "tshark "), " = ")
				if ok {
					cur.Tshark[f] = v
				}
			case strings.HasPrefix(block, "tshark (sequence"):
				row := map[string]string{}
				for _, part := range strings.Split(line, " | ") {
					k, v, _ := strings.Cut(part, "=")
					row[k] = v
				}
				if n, err := strconv.Atoi(row["number"]); err == nil {
					cur.Seq[n] = row
				}
			}
			continue
		}
		switch {
		case line == "```":
			inFence = true
			block = label
		case strings.HasPrefix(line, "## "):
			cur = nil
		case strings.HasPrefix(line, "### "):
			out = append(out, vector{
				ID:      strings.TrimSpace(strings.TrimPrefix(line, "### ")),
				Decoded: map[string]string{},
				Tshark:  map[string]string{},
				Seq:     map[int]map[string]string{},
			})
			cur = &out[len(out)-1]
		case cur != nil && strings.HasPrefix(line, "* Note: "):
			cur.Note = strings.TrimPrefix(line, "* Note: ")
		case strings.HasSuffix(line, ":") && line != "":
			label = line
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		v := &out[i]
		b, err := base64.StdEncoding.DecodeString(v.Base64)
		if err != nil {
			return nil, err
		}
		v.Bytes = b
	}
	return out, nil
}

// vectorSeeds returns the vector bytes for fuzz seeding (nil when the file
// is absent).
func vectorSeeds(tb testing.TB) [][]byte {
	raw := readVectorsFile(tb)
	if raw == nil {
		return nil
	}
	vs, err := parseVectors(raw)
	if err != nil {
		tb.Fatalf("parse vectors: %v", err)
	}
	var out [][]byte
	for _, v := range vs {
		out = append(out, v.Bytes)
	}
	return out
}

func TestVectorsFileShape(t *testing.T) {
	vs := loadVectors(t)
	if len(vs) != 54 {
		t.Fatalf("got %d vectors, want 54", len(vs))
	}
	for _, v := range vs {
		if got := hex.EncodeToString(v.Bytes); got != v.Hex {
			t.Errorf("%s: base64 and hex disagree", v.ID)
		}
		if len(v.Decoded) == 0 {
			t.Errorf("%s: no Decoded block", v.ID)
		}
	}
}
