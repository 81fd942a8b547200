package ntlm

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
)

// authWithBuffers builds an AUTHENTICATE of n bytes (n >= 64) whose security
// buffers are all empty except the ones given.
func authWithBuffers(n int, set map[int]secBuf) []byte {
	b := make([]byte, n)
	copy(b, Signature)
	binary.LittleEndian.PutUint32(b[8:], uint32(TypeAuthenticate))
	for _, at := range []int{12, 20, 28, 36, 44, 52} {
		binary.LittleEndian.PutUint32(b[at+4:], uint32(n))
	}
	for at, sb := range set {
		binary.LittleEndian.PutUint16(b[at:], sb.Len)
		binary.LittleEndian.PutUint16(b[at+2:], sb.MaxLen)
		binary.LittleEndian.PutUint32(b[at+4:], sb.Offset)
	}
	binary.LittleEndian.PutUint32(b[60:], uint32(NegotiateUnicode))
	return b
}

func TestHostileOffsetErrorMessage(t *testing.T) {
	b := authWithBuffers(88, map[int]secBuf{20: {Len: 24, MaxLen: 24, Offset: 0xffffffff}})
	m, err := Decode(b)
	const want = "ntlm: NtChallengeResponseFields: offset 4294967295 + length 24 past end of 88-byte message"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if !errors.Is(err, ErrTruncated) {
		t.Error("not ErrTruncated")
	}
	if m == nil || len(m.(*Authenticate).NTResponse) != 0 {
		t.Errorf("message = %+v", m)
	}
}

// TestHostileOffsetWrap: offset + length overflows 32 bits; a 32-bit check
// would wrap to a small number and pass.
func TestHostileOffsetWrap(t *testing.T) {
	b := authWithBuffers(100, map[int]secBuf{36: {Len: 0x20, Offset: 0xfffffff0}})
	_, err := Decode(b)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "UserNameFields" {
		t.Fatalf("err = %v", err)
	}
}

func TestHostilePartialBuffer(t *testing.T) {
	// User buffer starts inside the message and runs 10 bytes past it:
	// the bytes present are decoded.
	b := authWithBuffers(72, map[int]secBuf{36: {Len: 18, Offset: 64}})
	copy(b[64:], encodeUTF16("abcd"))
	m, err := Decode(b)
	if err == nil || m.(*Authenticate).User != "abcd" {
		t.Fatalf("got %+v, %v", m, err)
	}
}

func TestOddUTF16Length(t *testing.T) {
	b := authWithBuffers(69, map[int]secBuf{36: {Len: 5, Offset: 64}})
	copy(b[64:], "a\x00b\x00c")
	m, err := Decode(b)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "UserName" || !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want UserName odd length", err)
	}
	if m.(*Authenticate).User != "ab" {
		t.Errorf("user = %q", m.(*Authenticate).User)
	}
}

func TestHeaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		field string
		is    error
	}{
		{"empty", nil, "Signature", ErrTruncated},
		{"short prefix", []byte("NTLM"), "Signature", ErrTruncated},
		{"not NTLMSSP", []byte("HTTP/1.1 401"), "Signature", ErrBadSignature},
		{"no type", []byte("NTLMSSP\x00\x01"), "MessageType", ErrTruncated},
		{"type 4", []byte("NTLMSSP\x00\x04\x00\x00\x00"), "MessageType", ErrUnknownType},
		{"negotiate without flags", []byte("NTLMSSP\x00\x01\x00\x00\x00\x01"), "NegotiateFlags", ErrTruncated},
		{"challenge without challenge", []byte("NTLMSSP\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"), "ServerChallenge", ErrTruncated},
		{"challenge cut inside TargetInfoFields", append([]byte("NTLMSSP\x00\x02\x00\x00\x00\x00\x00\x00\x00\x38\x00\x00\x00\x05\x82\x89\xa2abcdefgh"), 0), "TargetInfoFields", ErrTruncated},
		{"authenticate of 40 bytes", append([]byte("NTLMSSP\x00\x03\x00\x00\x00"), make([]byte, 28)...), "UserNameFields", ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.b)
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Field != tt.field || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want field %s wrapping %v", err, tt.field, tt.is)
			}
			if partial := tt.field == "TargetInfoFields"; (m != nil) != partial {
				t.Errorf("message %+v, want partial message %v", m, partial)
			}
		})
	}
}

func TestOldShortMessages(t *testing.T) {
	// A 16-byte NEGOTIATE (davenport: buffers optional).
	m, err := Decode([]byte("NTLMSSP\x00\x01\x00\x00\x00\x07\x82\x08\x00"))
	if err != nil || m.(*Negotiate).Flags != 0x00088207 {
		t.Errorf("16-byte NEGOTIATE: %+v, %v", m, err)
	}
	// A 32-byte CHALLENGE with its target name right after the challenge.
	c := &Challenge{Flags: NegotiateOEM, TargetName: "DOM", ServerChallenge: Secret("12345678")}
	b := c.Marshal()
	old := append(append([]byte(nil), b[:32]...), "DOM"...)
	binary.LittleEndian.PutUint32(old[16:], 32)
	m, err = Decode(old)
	if err != nil || m.(*Challenge).TargetName != "DOM" || m.(*Challenge).TargetInfo != nil {
		t.Errorf("old CHALLENGE: %+v, %v", m, err)
	}
	// A 52-byte-header AUTHENTICATE (no session key, no flags): OEM.
	a := make([]byte, 52)
	copy(a, Signature)
	a[8] = 3
	binary.LittleEndian.PutUint16(a[36:], 4)
	binary.LittleEndian.PutUint32(a[40:], 52)
	a = append(a, "user"...)
	m, err = Decode(a)
	if err != nil || m.(*Authenticate).User != "user" || m.(*Authenticate).Flags != 0 {
		t.Errorf("old AUTHENTICATE: %+v, %v", m, err)
	}
}

func TestAVPairsEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		field   string
		npairs  int
		term    bool
		unknown bool
	}{
		{"unknown id kept", []byte{0x34, 0x12, 1, 0, 0xaa, 0, 0, 0, 0}, "", 2, true, true},
		{"no EOL", []byte{1, 0, 2, 0, 'A', 0}, "", 1, false, false},
		{"pair past end", []byte{1, 0, 0xff, 0xff, 'A', 0}, "TargetInfo", 0, false, false},
		{"short header", []byte{1, 0, 2}, "TargetInfo", 0, false, false},
		{"bytes after EOL ignored", []byte{0, 0, 0, 0, 0xde, 0xad}, "", 1, true, false},
		{"bad timestamp length", []byte{7, 0, 2, 0, 1, 2, 0, 0, 0, 0}, "TargetInfo.MsvAvTimestamp", 2, true, false},
		{"bad flags length", []byte{6, 0, 1, 0, 1, 0, 0, 0, 0}, "TargetInfo.MsvAvFlags", 2, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseAVPairs(dec{}, tt.b, "TargetInfo")
			if tt.field == "" && err != nil || tt.field != "" && (err == nil || err.Field != tt.field) {
				t.Fatalf("err = %v, want field %q", err, tt.field)
			}
			if len(a.Pairs) != tt.npairs || a.Terminated != tt.term {
				t.Errorf("pairs %+v terminated %v", a.Pairs, a.Terminated)
			}
			if tt.unknown && (a.Pairs[0].ID != 0x1234 || a.Pairs[0].ID.String() != "UNKNOWN_AVID_4660") {
				t.Errorf("unknown pair = %+v", a.Pairs[0])
			}
		})
	}
}

// TestPrefixesNeverPanic decodes every prefix of every inline message and
// every one-byte corruption: no panic, and errors are *ParseError.
func TestPrefixesNeverPanic(t *testing.T) {
	inputs := [][]byte{
		mustHex(t, hexNLMP4243Auth), mustHex(t, hexNLMP4243Chal), mustHex(t, hexNLMP4223Auth),
		mustHex(t, hexNegTokenInitNTLM), mustHex(t, hexAcceptComplete), mustHex(t, hexRequestMIC),
	}
	inputs = append(inputs, vectorSeeds(t)...)
	check := func(b []byte) {
		_, err := Decode(b)
		var pe *ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("Decode(%x): %T %v", b, err, err)
		}
		_, err = DecodeToken(SchemeNegotiate, b)
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("DecodeToken(%x): %T %v", b, err, err)
		}
	}
	for _, in := range inputs {
		for n := 0; n <= len(in); n++ {
			check(in[:n])
		}
		c := append([]byte(nil), in...)
		for i := range c {
			for _, x := range []byte{0x00, 0xff, 0x80, 0x7f} {
				old := c[i]
				c[i] = x
				check(c)
				c[i] = old
			}
		}
	}
}

// TestNoAllocationFromInputLengths decodes messages that claim huge lengths
// and checks the memory allocated stays small.
func TestNoAllocationFromInputLengths(t *testing.T) {
	hostile := [][]byte{
		authWithBuffers(100, map[int]secBuf{12: {Len: 0xffff, Offset: 0xffffffff}, 20: {Len: 0xffff, Offset: 90}, 36: {Len: 0xffff, Offset: 64}}),
		{0x60, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02},
		{0xa1, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff},
		append([]byte("NTLMSSP\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00abcdefgh\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x30\x00\x00\x00"), 0xff, 0xff, 0xff, 0xff),
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < 100; i++ {
		for _, b := range hostile {
			_, _ = Decode(b)
			_, _ = DecodeToken(SchemeNegotiate, b)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 16<<10 {
		t.Errorf("%d bytes allocated per round for %d small hostile inputs", per, len(hostile))
	}
}
