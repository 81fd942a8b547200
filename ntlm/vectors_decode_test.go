package ntlm

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// formatPairs prints an AV pair list the way NTLM-VECTORS.md does:
// "MsvAvNbDomainName=Domain, MsvAvFlags=0x00000002, MsvAvEOL=".
func formatPairs(a *AVPairs) string {
	if a == nil {
		return ""
	}
	var parts []string
	for _, p := range a.Pairs {
		var v string
		switch p.ID {
		case AvEOL:
		case AvNbComputerName, AvNbDomainName, AvDnsComputerName, AvDnsDomainName, AvDnsTreeName, AvTargetName:
			v = decodeUTF16(p.Value)
		case AvFlags:
			if len(p.Value) == 4 {
				v = fmt.Sprintf("0x%08x", uint32(p.Value[0])|uint32(p.Value[1])<<8|uint32(p.Value[2])<<16|uint32(p.Value[3])<<24)
			}
		case AvTimestamp:
			v = a.Timestamp.Format("2006-01-02T15:04:05.000000Z")
		default:
			v = hex.EncodeToString(p.Value)
		}
		parts = append(parts, p.ID.String()+"="+v)
	}
	return strings.Join(parts, ", ")
}

// flagNamesShort returns Names() without the NTLMSSP_ prefix, as the vectors
// list them.
func flagNamesShort(f NegotiateFlags) string {
	var out []string
	for _, n := range f.Names() {
		out = append(out, strings.TrimPrefix(n, "NTLMSSP_"))
	}
	return strings.Join(out, ", ")
}

func versionShort(v *Version) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d rev%d", v.Major, v.Minor, v.Build, v.Revision)
}

// decodeVector decodes a vector's bytes: raw NTLMSSP with Decode, anything
// else with DecodeToken.
func decodeVector(b []byte) (Message, *Token, error) {
	if IsNTLMSSP(b) {
		m, err := Decode(b)
		return m, nil, err
	}
	tok, err := DecodeToken(SchemeNegotiate, b)
	if tok == nil {
		return nil, nil, err
	}
	return tok.NTLM, tok, err
}

// malformedExpectation says which error a malformed vector must give: the
// field named, wrapping ErrTruncated. Decisions (see also
// TestMalformedVectors):
//
//   - TR-CHALLENGE-TRUNCATED (33 bytes): the message ends inside
//     Reserved/TargetInfoFields. Error naming TargetInfoFields; the flags and
//     server challenge before it are still returned, as tshark shows them.
//   - ZEEK-CHALLENGE-TargetInfo-past-end: TargetInfo lies wholly past the
//     end. Error naming TargetInfoFields; TargetInfo is nil; target name and
//     challenge decoded (tshark shows the same and no pairs).
//   - ZEEK-CHALLENGE-TargetInfo-unterminated: TargetInfo runs 4 bytes past
//     the end. Error naming TargetInfoFields; the 32 bytes present decode to
//     the two pairs, no MsvAvEOL (tshark shows both pairs too).
//   - ARKIME-AUTH-oversized-lengths: LM, NT and Domain buffers far past the
//     end. Error naming the first, LmChallengeResponseFields; those buffers
//     read as empty; user and workstation decoded, as the vector's decoder
//     does (Wireshark gives up at the first bad buffer: less useful for a
//     diagnosis, so not followed here).
//   - SURICATA-AUTH-swapped-offsets: not malformed; offsets are followed, so
//     user SERVER01 and workstation Administrator, no error.
func malformedExpectation(v vector) (field string, ok bool) {
	switch {
	case v.Decoded["target_info_note"] != "":
		return "TargetInfoFields", true
	case v.Decoded["out_of_bounds_buffers"] != "":
		first, _, _ := strings.Cut(v.Decoded["out_of_bounds_buffers"], ",")
		return first + "Fields", true
	case strings.Contains(v.Note, "NEGATIVE"):
		return "TargetInfoFields", true
	}
	return "", false
}

// TestVectors decodes every vector and checks each documented field of its
// "Decoded:" block.
func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	for _, v := range vs {
		t.Run(v.ID, func(t *testing.T) { checkDecoded(t, v) })
	}
}

func checkDecoded(t *testing.T, v vector) {
	d := v.Decoded
	msg, tok, err := decodeVector(v.Bytes)

	if field, bad := malformedExpectation(v); bad {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v, want a *ParseError naming %s", err, field)
		}
		if pe.Field != field || !errors.Is(err, ErrTruncated) {
			t.Errorf("err = %v (field %q), want field %q wrapping ErrTruncated", err, pe.Field, field)
		}
	} else if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}

	if d["error"] == "no NTLMSSP signature" {
		if tok == nil || msg != nil {
			t.Fatalf("want a token without NTLM message, got token %v msg %v", tok, msg)
		}
		return
	}
	if msg == nil {
		t.Fatalf("no message decoded (err %v)", err)
	}
	if want := d["type"]; want != fmt.Sprint(uint32(msg.Type())) {
		t.Errorf("type = %d, want %s", msg.Type(), want)
	}
	if strings.HasPrefix(d["wrapper"], "wrapped") && (tok == nil || tok.SPNEGO == NotSPNEGO) {
		t.Errorf("want a SPNEGO-wrapped token, got %+v", tok)
	}
	if _, ok := d["wrapper"]; !ok && tok != nil {
		t.Errorf("raw NTLMSSP expected")
	}

	var flags NegotiateFlags
	var version *Version
	switch m := msg.(type) {
	case *Negotiate:
		flags, version = m.Flags, m.Version
		eq(t, "domain(oem)", m.Domain, d["domain(oem)"])
		eq(t, "workstation(oem)", m.Workstation, d["workstation(oem)"])
	case *Challenge:
		flags, version = m.Flags, m.Version
		eq(t, "target_name", m.TargetName, d["target_name"])
		eq(t, "server_challenge", hex.EncodeToString(m.ServerChallenge), d["server_challenge"])
		if want, ok := d["target_info"]; ok {
			eq(t, "target_info", formatPairs(m.TargetInfo), want)
		}
	case *Authenticate:
		flags, version = m.Flags, m.Version
		eq(t, "domain", m.Domain, d["domain"])
		eq(t, "user", m.User, d["user"])
		eq(t, "workstation", m.Workstation, d["workstation"])
		lens := map[string]int{"lm_response_len": len(m.LMResponse), "nt_response_len": len(m.NTResponse), "session_key_len": len(m.EncryptedSessionKey)}
		for k, got := range lens {
			want := d[k]
			if d["out_of_bounds_buffers"] != "" && want == "65535" {
				// Declared 65535 bytes far past the end: read as empty.
				want = "0"
			}
			eq(t, k, fmt.Sprint(got), want)
		}
		if want, ok := d["ntlm_version"]; ok {
			eq(t, "ntlm_version", pythonKind(m.Response), want)
		}
		eq(t, "mic", hex.EncodeToString(m.MIC), d["mic"])
		if want, ok := d["ntproofstr"]; ok {
			if m.ClientBlob == nil {
				t.Fatalf("no client blob")
			}
			eq(t, "ntproofstr", hex.EncodeToString(m.ClientBlob.NTProofStr), want)
		} else if m.ClientBlob != nil && m.Response != ResponseNTLMv2 {
			t.Errorf("client blob on a %s response", m.Response)
		}
		if want, ok := d["client_blob_avpairs"]; ok {
			eq(t, "client_blob_avpairs", formatPairs(m.ClientBlob.Pairs), want)
		}
	default:
		t.Fatalf("unexpected message %T", msg)
	}
	eq(t, "flags", fmt.Sprintf("0x%08x", uint32(flags)), d["flags"])
	eq(t, "flag_names", flagNamesShort(flags), d["flag_names"])
	eq(t, "version", versionShort(version), d["version"])
}

// pythonKind maps a ResponseKind to the vectors' coarser ntlm_version.
func pythonKind(k ResponseKind) string {
	switch k {
	case ResponseNTLMv1, ResponseNTLMv1ESS:
		return "NTLMv1"
	case ResponseAnonymous:
		return "anonymous/empty"
	}
	return k.String()
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// tsharkQuirks lists vectors whose tshark output is known wrong (the vectors
// file says so): tshark 4.0.17 reads PYSPNEGO-ntlm_authenticate's strings as
// one character.
var tsharkQuirks = map[string]bool{"PYSPNEGO-ntlm_authenticate": true}

// TestVectorsTshark checks every field of each vector's tshark (single
// message) block: a second, independent oracle.
func TestVectorsTshark(t *testing.T) {
	for _, v := range loadVectors(t) {
		if tsharkQuirks[v.ID] {
			continue
		}
		t.Run(v.ID, func(t *testing.T) {
			msg, tok, _ := decodeVector(v.Bytes)
			for field, want := range v.Tshark {
				got, ok := tsharkField(msg, tok, field)
				if !ok {
					t.Errorf("no value for %s", field)
					continue
				}
				if want == "NULL" {
					want = ""
				}
				eq(t, field, got, want)
			}
		})
	}
}

// tsharkField returns the value of a tshark field for the decoded message.
func tsharkField(msg Message, tok *Token, field string) (string, bool) {
	if field == "spnego.MechType" {
		if tok == nil {
			return "", false
		}
		return strings.Join(tok.MechTypes, ","), true
	}
	if msg == nil {
		return "", false
	}
	var flags NegotiateFlags
	var version *Version
	var info *AVPairs
	s := map[string]string{"ntlmssp.messagetype": fmt.Sprintf("0x%08x", uint32(msg.Type()))}
	switch m := msg.(type) {
	case *Negotiate:
		flags, version = m.Flags, m.Version
		s["ntlmssp.negotiate.domain"] = m.Domain
	case *Challenge:
		flags, version = m.Flags, m.Version
		s["ntlmssp.ntlmserverchallenge"] = hex.EncodeToString(m.ServerChallenge)
		s["ntlmssp.challenge.target_name"] = m.TargetName
		if info = m.TargetInfo; info != nil {
			addInfo(s, "ntlmssp.challenge.target_info.", info)
		}
	case *Authenticate:
		flags, version = m.Flags, m.Version
		s["ntlmssp.auth.username"] = m.User
		s["ntlmssp.auth.domain"] = m.Domain
		s["ntlmssp.auth.hostname"] = m.Workstation
		s["ntlmssp.authenticate.mic"] = hex.EncodeToString(m.MIC)
		if m.ClientBlob != nil {
			s["ntlmssp.ntlmv2_response.ntproofstr"] = hex.EncodeToString(m.ClientBlob.NTProofStr)
			addInfo(s, "ntlmssp.ntlmv2_response.", m.ClientBlob.Pairs)
		}
	}
	s["ntlmssp.negotiateflags"] = fmt.Sprintf("0x%08x", uint32(flags))
	if version != nil {
		s["ntlmssp.version.major"] = fmt.Sprint(version.Major)
		s["ntlmssp.version.minor"] = fmt.Sprint(version.Minor)
		s["ntlmssp.version.build_number"] = fmt.Sprint(version.Build)
	}
	v, ok := s[field]
	return v, ok
}

func addInfo(s map[string]string, prefix string, a *AVPairs) {
	if a == nil {
		return
	}
	for k, v := range map[string]string{
		"nb_computer_name":  a.NbComputerName,
		"nb_domain_name":    a.NbDomainName,
		"dns_computer_name": a.DnsComputerName,
		"dns_domain_name":   a.DnsDomainName,
		"dns_tree_name":     a.DnsTreeName,
		"target_name":       a.TargetName,
	} {
		if v != "" {
			s[prefix+k] = v
		}
	}
}
