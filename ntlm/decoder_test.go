package ntlm

import (
	"encoding/base64"
	"encoding/binary"
	"reflect"
	"testing"
	"unicode/utf16"
)

// dirtyDecoder returns a Decoder that has just decoded other things, so
// that a comparison also catches state left over from earlier calls.
func dirtyDecoder(t testing.TB) *Decoder {
	d := &Decoder{}
	for _, h := range []string{hexNLMP4243Auth, hexNLMP4243Chal, hexNegTokenInitNTLM} {
		b := mustHex(t, h)
		if _, err := d.DecodeToken(SchemeNegotiate, b); err != nil {
			t.Fatal(err)
		}
		d.ParseChallengeHeader("Negotiate, NTLM " + base64.StdEncoding.EncodeToString(b))
	}
	return d
}

// checkSameToken fails unless the Decoder decodes b as DecodeToken does,
// twice in a row (the second time from the strings it remembered).
func checkSameToken(t *testing.T, d *Decoder, b []byte) {
	t.Helper()
	want, wantErr := DecodeToken(SchemeNegotiate, b)
	for range 2 {
		in := append([]byte(nil), b...)
		got, err := d.DecodeToken(SchemeNegotiate, in)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("Decoder.DecodeToken(%x) = %+v, %v; DecodeToken = %+v, %v", b, got, err, want, wantErr)
		}
	}
}

// TestDecoderAsFunctions checks that a Decoder decodes every seed token and
// header as the allocating functions do.
func TestDecoderAsFunctions(t *testing.T) {
	d := dirtyDecoder(t)
	for _, b := range append(inlineSeeds(t), vectorSeeds(t)...) {
		checkSameToken(t, d, b)
	}
	for _, v := range headerSeeds(t) {
		checkSameHeaders(t, d, v)
	}
}

func checkSameHeaders(t *testing.T, d *Decoder, v string) {
	t.Helper()
	if got, want := d.ParseChallengeHeader(v), ParseChallengeHeader(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("Decoder.ParseChallengeHeader(%q) = %+v; ParseChallengeHeader = %+v", v, got, want)
	}
	if got, want := d.ParseCredentialsHeader(v), ParseCredentialsHeader(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("Decoder.ParseCredentialsHeader(%q) = %+v; ParseCredentialsHeader = %+v", v, got, want)
	}
}

// TestDecoderSharesInput checks what the Decoder documents: secrets share
// the input and cannot be appended into it; strings are kept.
func TestDecoderSharesInput(t *testing.T) {
	var d Decoder
	b := mustHex(t, hexNLMP4243Auth)
	tok, err := d.DecodeToken(SchemeNTLM, b)
	if err != nil {
		t.Fatal(err)
	}
	a := tok.NTLM.(*Authenticate)
	if &a.NTResponse[0] != &b[0x84] {
		t.Error("NTResponse does not share the input")
	}
	if cap(a.NTResponse) != len(a.NTResponse) {
		t.Error("NTResponse has spare capacity into the input")
	}
	user := a.User
	if _, err := d.DecodeToken(SchemeNTLM, mustHex(t, hexNLMP4243Chal)); err != nil {
		t.Fatal(err)
	}
	if user != "User" {
		t.Errorf("user = %q after the next decode", user)
	}
}

func FuzzDecoder(f *testing.F) {
	for _, b := range seedBytes(f) {
		f.Add(b, "NTLM "+base64.StdEncoding.EncodeToString(b))
	}
	for _, s := range headerSeeds(f) {
		f.Add([]byte(s), s)
	}
	f.Fuzz(func(t *testing.T, b []byte, header string) {
		d := dirtyDecoder(t)
		checkSameToken(t, d, b)
		checkSameHeaders(t, d, header)
	})
}

// TestDecodeUTF16 checks decodeUTF16 against unicode/utf16 on surrogates
// paired, unpaired and cut, and on a string longer than its stack buffer.
func TestDecodeUTF16(t *testing.T) {
	long := make([]uint16, 300)
	for i := range long {
		long[i] = uint16(0x3b1 + i%20) // Greek: two UTF-8 bytes each
	}
	for _, u := range [][]uint16{
		{'a', 'B'}, {0xd83d, 0xde00}, {0xd83d}, {0xde00, 'x'}, {'x', 0xd83d, 'y'}, {0xd83d, 0xd83d, 0xde00},
		{0xfffd, 0xffff, 0xe000}, long,
	} {
		p := make([]byte, 2*len(u))
		for i, c := range u {
			binary.LittleEndian.PutUint16(p[2*i:], c)
		}
		if got, want := decodeUTF16(p), string(utf16.Decode(u)); got != want {
			t.Errorf("decodeUTF16(%x) = %q, want %q", p, got, want)
		}
	}
}
