package report

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ntlmscope/ntlmscope/ntlm"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// authHeaders collects the authentication header values of a capture.
type authHeaders struct {
	mu     sync.Mutex
	values []string
}

func (h *authHeaders) ConnectionOpened(*reassembly.Conn)                     {}
func (h *authHeaders) ConnectionClosed(*reassembly.Conn)                     {}
func (h *authHeaders) Request(_ *reassembly.Conn, m *reassembly.Message)     { h.add(m) }
func (h *authHeaders) Response(_ *reassembly.Conn, _, m *reassembly.Message) { h.add(m) }
func (h *authHeaders) add(m *reassembly.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range m.Header {
		switch strings.ToLower(f.Name) {
		case "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "cookie":
			h.values = append(h.values, strings.Clone(f.Value)) // valid only during the call
		}
	}
}

// token68 finds the tokens of authentication headers as sent.
var token68 = regexp.MustCompile(`(?i)\b(?:NTLM|Negotiate|Kerberos|Basic|Bearer)\s+([A-Za-z0-9+/=._~-]{12,})`)

// captureSecrets decodes every authentication header of a capture with
// the project's own codec and returns the text forms in which its secrets
// could leak: raw tokens (whole and their first 24 characters, as the
// shared redaction-check looks for them), and the hex (both cases, with
// and without colons) and base64 of server challenges, LM and NT
// responses, NTProofStr, session keys and MICs.
func captureSecrets(t *testing.T, path string) []string {
	t.Helper()
	src, err := reassembly.OpenFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	h := &authHeaders{}
	if _, err := reassembly.Run(src, h, reassembly.Options{}); err != nil {
		t.Fatal(err)
	}
	var needles []string
	addBytes := func(b []byte) {
		if len(b) < 8 || bytes.Count(b, b[:1]) == len(b) { // too short, or all one byte (zeros)
			return
		}
		x := hex.EncodeToString(b)
		var colons []string
		for i := 0; i < len(x); i += 2 {
			colons = append(colons, x[i:i+2])
		}
		needles = append(needles, x, strings.ToUpper(x), strings.Join(colons, ":"), base64.StdEncoding.EncodeToString(b))
	}
	for _, v := range h.values {
		for _, m := range token68.FindAllStringSubmatch(v, -1) {
			needles = append(needles, m[1], m[1][:min(24, len(m[1]))])
		}
		var toks []ntlm.AuthToken
		toks = append(toks, ntlm.ParseChallengeHeader(v)...)
		toks = append(toks, ntlm.ParseCredentialsHeader(v))
		for _, at := range toks {
			if at.Err != nil || len(at.Token) == 0 {
				continue
			}
			if at.Scheme == ntlm.SchemeBasic {
				if _, pw, ok := strings.Cut(string(at.Token), ":"); ok && len(pw) >= 4 {
					needles = append(needles, pw)
				}
				continue
			}
			tok, _ := ntlm.DecodeToken(at.Scheme, at.Token)
			if tok == nil {
				continue
			}
			addBytes(tok.MechListMIC)
			switch m := tok.NTLM.(type) {
			case *ntlm.Challenge:
				addBytes(m.ServerChallenge)
			case *ntlm.Authenticate:
				addBytes(m.LMResponse)
				addBytes(m.NTResponse)
				if len(m.NTResponse) > 24 {
					addBytes(m.NTResponse[:16]) // NTProofStr
				}
				addBytes(m.EncryptedSessionKey)
				addBytes(m.MIC)
			}
		}
	}
	return needles
}

// TestNoSecretsInAnyFormat renders every capture in every format (every
// CSV table, anonymized or not, queries kept or not) and fails on any
// secret of the capture found in the output.
func TestNoSecretsInAnyFormat(t *testing.T) {
	caps := append(sharedCaptures(t), labCaptures("*.pcap*")...)
	for _, c := range caps {
		t.Run(filepath.Base(c), func(t *testing.T) {
			needles := captureSecrets(t, c)
			r := analyze(t, c)
			if r.Summary.Handshakes > 0 && len(needles) == 0 {
				t.Fatal("NTLM handshakes but no secret decoded: the scan would prove nothing")
			}
			if len(needles) > 0 && len(r.Findings) > 0 {
				// Positive control: a secret planted in the model is found.
				planted := deepCopy(r)
				planted.Findings[0].Message += " " + needles[len(needles)-1]
				if !bytes.Contains(render(t, "markdown", Options{}, planted), []byte(needles[len(needles)-1])) {
					t.Fatal("the scan misses a planted secret")
				}
			}
			vs := append(variants(), extraVariants()...)
			for _, v := range vs {
				v.opts.Users, v.opts.Connections = nil, nil
				out := render(t, v.format, v.opts, r)
				for _, n := range needles {
					if bytes.Contains(out, []byte(n)) {
						t.Errorf("%s: secret %s… is in the output", v.name, n[:min(12, len(n))])
					}
				}
			}
		})
	}
}
