package ntlm

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
)

// MS-NLMP 4.2 worked examples (user "User", domain "Domain", workstation
// "COMPUTER", password "Password", server challenge 0123456789abcdef, client
// challenge aaaaaaaaaaaaaaaa), as reproduced in vadimi/go-ntlm (BSD). Inline
// so that these tests run without ../shared.
const (
	hexNLMP4223Auth = "4e544c4d5353500003000000180018006c00000018001800840000000c000c00480000000800080054000000100010005c000000100010009c000000358280e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d005000550054004500520098def7b87f88aa5dafe2df779688a172def11c7d5ccdef1367c43011f30298a2ad35ece64f16331c44bdbed927841f94518822b1b3f350c8958682ecbb3e3cb7"
	hexNLMP4233Auth = "4e544c4d5353500003000000180018006c00000018001800840000000c000c00480000000800080054000000100010005c000000000000009c000000358208820501280a0000000f44006f006d00610069006e00550073006500720043004f004d0050005500540045005200aaaaaaaaaaaaaaaa000000000000000000000000000000007537f803ae367128ca458204bde7caf81e97ed2683267232"
	hexNLMP4243Chal = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000"
	hexNLMP4243Auth = "4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000000100010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc9799094ce1ce90bc9d03e"
	hexNLMP4223Chal = "4e544c4d53535000020000000c000c003800000033820a820123456789abcdef00000000000000000000000000000000060070170000000f530065007200760065007200"
)

var (
	nlmpServerChallenge = "0123456789abcdef"
	nlmpClientChallenge = "aaaaaaaaaaaaaaaa"
	nlmpVersionClient   = &Version{Major: 5, Minor: 1, Build: 2600, Revision: 15}
	nlmpVersionServer   = &Version{Major: 6, Minor: 0, Build: 6000, Revision: 15}
)

func decodeAuth(t *testing.T, h string) *Authenticate {
	t.Helper()
	m, err := Decode(mustHex(t, h))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := m.(*Authenticate)
	if !ok {
		t.Fatalf("got %T", m)
	}
	return a
}

func TestNLMPExamples(t *testing.T) {
	tests := []struct {
		name       string
		hex        string
		flags      NegotiateFlags
		kind       ResponseKind
		lm, nt     string
		sessionKey string
	}{
		{"4.2.2.3 NTLMv1", hexNLMP4223Auth, 0xe2808235, ResponseNTLMv1,
			"98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13", "67c43011f30298a2ad35ece64f16331c44bdbed927841f94", "518822b1b3f350c8958682ecbb3e3cb7"},
		{"4.2.3.3 NTLMv1 with extended session security", hexNLMP4233Auth, 0x82088235, ResponseNTLMv1ESS,
			"aaaaaaaaaaaaaaaa00000000000000000000000000000000", "7537f803ae367128ca458204bde7caf81e97ed2683267232", ""},
		{"4.2.4.3 NTLMv2", hexNLMP4243Auth, 0xe2888235, ResponseNTLMv2,
			"86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa", "68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000", "c5dad2544fc9799094ce1ce90bc9d03e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := decodeAuth(t, tt.hex)
			if a.User != "User" || a.Domain != "Domain" || a.Workstation != "COMPUTER" {
				t.Errorf("names = %q %q %q", a.User, a.Domain, a.Workstation)
			}
			if a.Flags != tt.flags || a.Response != tt.kind {
				t.Errorf("flags %v kind %v, want %v %v", a.Flags, a.Response, tt.flags, tt.kind)
			}
			if !reflect.DeepEqual(a.Version, nlmpVersionClient) {
				t.Errorf("version = %v", a.Version)
			}
			if a.Version.String() != "Windows 5.1 build 2600" {
				t.Errorf("version string = %s", a.Version)
			}
			eq(t, "LM", hex.EncodeToString(a.LMResponse), tt.lm)
			eq(t, "NT", hex.EncodeToString(a.NTResponse), tt.nt)
			eq(t, "session key", hex.EncodeToString(a.EncryptedSessionKey), tt.sessionKey)
			if a.MIC != nil {
				t.Errorf("MIC present: payload starts at 72")
			}
			if tt.kind != ResponseNTLMv2 {
				if a.ClientBlob != nil {
					t.Errorf("client blob on %v", tt.kind)
				}
				return
			}
			b := a.ClientBlob
			eq(t, "NTProofStr", hex.EncodeToString(b.NTProofStr), "68cd0ab851e51c96aabc927bebef6a1c")
			eq(t, "client challenge", hex.EncodeToString(b.ClientChallenge), nlmpClientChallenge)
			if !b.Timestamp.IsZero() {
				t.Errorf("timestamp = %v, want zero", b.Timestamp)
			}
			if b.Pairs.NbDomainName != "Domain" || b.Pairs.NbComputerName != "Server" || !b.Pairs.Terminated || b.Pairs.ServerIdentity() != "Server" {
				t.Errorf("pairs = %+v", b.Pairs)
			}
		})
	}
}

func TestNLMPChallenges(t *testing.T) {
	for _, h := range []string{hexNLMP4223Chal, hexNLMP4243Chal} {
		m, err := Decode(mustHex(t, h))
		if err != nil {
			t.Fatal(err)
		}
		c := m.(*Challenge)
		if c.TargetName != "Server" || hex.EncodeToString(c.ServerChallenge) != nlmpServerChallenge || !reflect.DeepEqual(c.Version, nlmpVersionServer) {
			t.Errorf("got %+v", c)
		}
		if h == hexNLMP4223Chal && c.TargetInfo != nil {
			t.Errorf("4.2.2.3 has no TargetInfo, got %+v", c.TargetInfo)
		}
		if h == hexNLMP4243Chal && (c.TargetInfo == nil || c.TargetInfo.NbDomainName != "Domain" || c.TargetInfo.NbComputerName != "Server") {
			t.Errorf("4.2.4.3 TargetInfo = %+v", c.TargetInfo)
		}
	}
}

// TestNTLMv2Crypto reproduces MS-NLMP 4.2.4.
func TestNTLMv2Crypto(t *testing.T) {
	ntowf := NTOWFv2("User", "Domain", "Password")
	eq(t, "ResponseKeyNT", hex.EncodeToString(ntowf), "0c868a403bfd7a93a3001ef22ef02e3f")

	blob := &NTLMv2Blob{
		ClientChallenge: mustHex(t, nlmpClientChallenge),
		Pairs:           &AVPairs{NbDomainName: "Domain", NbComputerName: "Server"},
	}
	temp := blob.Marshal()
	auth := decodeAuth(t, hexNLMP4243Auth)
	if !bytes.Equal(temp, auth.NTResponse[16:]) {
		t.Fatalf("blob:\n got %x\nwant %x", temp, []byte(auth.NTResponse[16:]))
	}
	sc := mustHex(t, nlmpServerChallenge)
	proof := NTProofStr(ntowf, sc, temp)
	eq(t, "NTProofStr", hex.EncodeToString(proof), "68cd0ab851e51c96aabc927bebef6a1c")
	eq(t, "SessionBaseKey", hex.EncodeToString(SessionBaseKeyV2(ntowf, proof)), "8de40ccadbc14a82f15cb0ad0de95ca3")
	eq(t, "LMv2", hex.EncodeToString(LMv2Response(ntowf, sc, blob.ClientChallenge)), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
	if !bytes.Equal(NTLMv2Response(ntowf, sc, temp), auth.NTResponse) {
		t.Error("NTLMv2Response differs from the example")
	}

	if !VerifyNTLMv2(ntowf, sc, auth.NTResponse) {
		t.Error("VerifyNTLMv2 rejects the MS-NLMP example")
	}
	if VerifyNTLMv2(NTOWFv2("User", "Domain", "password"), sc, auth.NTResponse) {
		t.Error("VerifyNTLMv2 accepts a wrong password")
	}
	if VerifyNTLMv2(ntowf, mustHex(t, "0123456789abcdee"), auth.NTResponse) {
		t.Error("VerifyNTLMv2 accepts a wrong server challenge")
	}
	tampered := append([]byte(nil), auth.NTResponse...)
	tampered[40] ^= 1
	if VerifyNTLMv2(ntowf, sc, tampered) {
		t.Error("VerifyNTLMv2 accepts a tampered blob")
	}
	if VerifyNTLMv2(ntowf, sc, auth.NTResponse[:30]) {
		t.Error("VerifyNTLMv2 accepts a short response")
	}
	// User names are case-insensitive, domains are not.
	if !bytes.Equal(NTOWFv2("user", "Domain", "Password"), ntowf) {
		t.Error("NTOWFv2 should upper-case the user")
	}
}

// TestEncodeNLMPExamples rebuilds the 4.2.4 messages from their fields,
// byte for byte.
func TestEncodeNLMPExamples(t *testing.T) {
	chal := &Challenge{
		Flags:           0xe28a8233 &^ NegotiateTargetInfo &^ NegotiateVersion, // Marshal sets these
		TargetName:      "Server",
		ServerChallenge: mustHex(t, nlmpServerChallenge),
		Version:         nlmpVersionServer,
		TargetInfo:      &AVPairs{NbDomainName: "Domain", NbComputerName: "Server"},
	}
	if got := chal.Marshal(); !bytes.Equal(got, mustHex(t, hexNLMP4243Chal)) {
		t.Errorf("CHALLENGE:\n got %x\nwant %s", got, hexNLMP4243Chal)
	}

	ntowf := NTOWFv2("User", "Domain", "Password")
	blob := &NTLMv2Blob{
		ClientChallenge: mustHex(t, nlmpClientChallenge),
		Pairs:           &AVPairs{NbDomainName: "Domain", NbComputerName: "Server"},
	}
	blob.NTProofStr = NTProofStr(ntowf, mustHex(t, nlmpServerChallenge), blob.Marshal())
	auth := &Authenticate{
		Flags:               0xe2888235,
		Domain:              "Domain",
		User:                "User",
		Workstation:         "COMPUTER",
		Version:             nlmpVersionClient,
		LMResponse:          LMv2Response(ntowf, mustHex(t, nlmpServerChallenge), blob.ClientChallenge),
		EncryptedSessionKey: mustHex(t, "c5dad2544fc9799094ce1ce90bc9d03e"),
		ClientBlob:          blob,
	}
	if got := auth.Marshal(); !bytes.Equal(got, mustHex(t, hexNLMP4243Auth)) {
		t.Errorf("AUTHENTICATE:\n got %x\nwant %s", got, hexNLMP4243Auth)
	}
}

// TestInlineMatchesShared guards the inline copies against the vectors file.
func TestInlineMatchesShared(t *testing.T) {
	inline := map[string]string{
		"NLMP-4.2.2.3-CHALLENGE":              hexNLMP4223Chal,
		"NLMP-4.2.2.3-AUTHENTICATE":           hexNLMP4223Auth,
		"NLMP-4.2.3.3-AUTHENTICATE":           hexNLMP4233Auth,
		"NLMP-4.2.4.3-CHALLENGE":              hexNLMP4243Chal,
		"NLMP-4.2.4.3-AUTHENTICATE":           hexNLMP4243Auth,
		"SPNEGO-NegTokenInit-NTLM":            hexNegTokenInitNTLM,
		"SPNEGO-NegTokenResp-accept-complete": hexAcceptComplete,
		"SPNEGO-request-mic-fallback":         hexRequestMIC,
	}
	for _, v := range loadVectors(t) {
		if h, ok := inline[v.ID]; ok {
			if h != v.Hex {
				t.Errorf("%s: inline copy differs from the vectors file", v.ID)
			}
			delete(inline, v.ID)
		}
	}
	if len(inline) != 0 {
		t.Errorf("not in the vectors file: %v", inline)
	}
}
