package ntlm

import (
	"reflect"
	"testing"
)

func TestNegotiateFlags(t *testing.T) {
	f := NegotiateFlags(0xe2898235)
	wantNames := []string{
		"NTLMSSP_NEGOTIATE_UNICODE", "NTLMSSP_REQUEST_TARGET", "NTLMSSP_NEGOTIATE_SIGN", "NTLMSSP_NEGOTIATE_SEAL",
		"NTLMSSP_NEGOTIATE_NTLM", "NTLMSSP_NEGOTIATE_ALWAYS_SIGN", "NTLMSSP_TARGET_TYPE_DOMAIN",
		"NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY", "NTLMSSP_NEGOTIATE_TARGET_INFO", "NTLMSSP_NEGOTIATE_VERSION",
		"NTLMSSP_NEGOTIATE_128", "NTLMSSP_NEGOTIATE_KEY_EXCH", "NTLMSSP_NEGOTIATE_56",
	}
	if got := f.Names(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("Names = %v", got)
	}
	if got := f.String(); got != "UNICODE|REQUEST_TARGET|SIGN|SEAL|NTLM|ALWAYS_SIGN|TARGET_TYPE_DOMAIN|EXTENDED_SESSIONSECURITY|TARGET_INFO|VERSION|128|KEY_EXCH|56" {
		t.Errorf("String = %s", got)
	}
	if !f.Has(NegotiateUnicode|NegotiateVersion) || f.Has(NegotiateOEM) || f.Has(NegotiateUnicode|NegotiateOEM) {
		t.Error("Has")
	}
	all := NegotiateFlags(0xffffffff).Names()
	if len(all) != 32 {
		t.Fatalf("%d names for 32 bits", len(all))
	}
	unknown := 0
	for _, n := range all {
		if len(n) > 15 && n[:15] == "UNKNOWN_FLAG_0x" {
			unknown++
		}
	}
	if unknown != 10 { // r1..r10
		t.Errorf("%d unknown bits, want 10: %v", unknown, all)
	}
	if got := NegotiateFlags(0x00000808).String(); got != "UNKNOWN_FLAG_0x00000008|ANONYMOUS" {
		t.Errorf("String = %s", got)
	}
	if NegotiateFlags(0).String() != "0" || NegotiateFlags(0).Names() != nil {
		t.Error("zero flags")
	}
}

func TestEnumStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{TypeNegotiate.String(), "NEGOTIATE"},
		{TypeChallenge.String(), "CHALLENGE"},
		{TypeAuthenticate.String(), "AUTHENTICATE"},
		{MessageType(9).String(), "UNKNOWN_MESSAGETYPE_9"},
		{AvNbComputerName.String(), "MsvAvNbComputerName"},
		{AvChannelBindings.String(), "MsvAvChannelBindings"},
		{AVID(11).String(), "UNKNOWN_AVID_11"},
		{ResponseAnonymous.String(), "anonymous"},
		{ResponseLM.String(), "LM"},
		{ResponseNTLMv1.String(), "NTLMv1"},
		{ResponseNTLMv1ESS.String(), "NTLMv1-ESS"},
		{ResponseNTLMv2.String(), "NTLMv2"},
		{ResponseKind(77).String(), "UNKNOWN_RESPONSEKIND_77"},
		{MechKerberos.String(), "Kerberos"},
		{Mech(9).String(), "UNKNOWN_MECH_9"},
		{NegStateAbsent.String(), "absent"},
		{AcceptCompleted.String(), "accept-completed"},
		{RequestMIC.String(), "request-mic"},
		{NegState(7).String(), "UNKNOWN_NEGSTATE_7"},
		{NegState(-5).String(), "UNKNOWN_NEGSTATE_-5"},
		{NegTokenInit.String(), "NegTokenInit"},
		{SPNEGOKind(5).String(), "UNKNOWN_SPNEGOKIND_5"},
		{KerberosAPReq.String(), "AP-REQ"},
		{KerberosError.String(), "KRB-ERROR"},
		{KerberosKind(9).String(), "UNKNOWN_KERBEROSKIND_9"},
		{Version{Major: 10, Build: 19041, Revision: 15}.String(), "Windows 10.0 build 19041"},
		{(&ParseError{Msg: "m", Field: "F"}).Error(), "ntlm: F: m"},
		{(&ParseError{Msg: "m"}).Error(), "ntlm: m"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestServerIdentity(t *testing.T) {
	var nilPairs *AVPairs
	if nilPairs.ServerIdentity() != "" {
		t.Error("nil")
	}
	if (&AVPairs{NbComputerName: "WEB01"}).ServerIdentity() != "WEB01" {
		t.Error("NetBIOS fallback")
	}
	if (&AVPairs{NbComputerName: "WEB01", DnsComputerName: "web01.contoso.com"}).ServerIdentity() != "web01.contoso.com" {
		t.Error("DNS first")
	}
}

func TestFileTime(t *testing.T) {
	for _, ft := range []uint64{0, 1, 116444736000000000, 0x01d61e99889281f8, 1<<63 + 12345, ^uint64(0)} {
		tm := fileTimeToTime(ft)
		if ft < 1<<62 && timeToFileTime(tm) != ft {
			t.Errorf("%d -> %v -> %d", ft, tm, timeToFileTime(tm))
		}
	}
	if got := fileTimeToTime(0x01d61e99889281f8).Format("2006-01-02T15:04:05.000000Z"); got != "2020-04-30T02:46:22.414079Z" {
		t.Errorf("got %s", got)
	}
}

func TestAVPairsGetAndAnonymous(t *testing.T) {
	a, err := parseAVPairs(dec{}, (&AVPairs{NbComputerName: "WEB01", HasFlags: true, Flags: AvFlagMICPresent}).Marshal(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := a.Get(AvFlags); !ok || len(v) != 4 || v[0] != 2 {
		t.Errorf("Get(AvFlags) = %x, %v", v, ok)
	}
	if _, ok := a.Get(AvTargetName); ok {
		t.Error("Get of an absent id")
	}
	var nilPairs *AVPairs
	if _, ok := nilPairs.Get(AvEOL); ok {
		t.Error("Get on nil")
	}
	m, _ := Decode((&Authenticate{Flags: NegotiateUnicode | NegotiateAnonymous, LMResponse: Secret{0}}).Marshal())
	if !m.(*Authenticate).IsAnonymous() {
		t.Error("IsAnonymous false")
	}
}
