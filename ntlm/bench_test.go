package ntlm

import (
	"encoding/base64"
	"testing"
)

// Benchmarks of what an analyzer does for each auth header: parse the
// header, then decode the token (a Type 2 from a server, a Type 3 from a
// client, SPNEGO-wrapped or not), with the allocating functions and with a
// Decoder.

func benchTokens(b *testing.B) map[string][]byte {
	return map[string][]byte{
		"Type2":       mustHex(b, hexNLMP4243Chal),
		"Type3":       mustHex(b, hexNLMP4243Auth),
		"SPNEGOType3": WrapSPNEGOResp(NegStateAbsent, mustHex(b, hexNLMP4243Auth)),
		"SPNEGOType1": mustHex(b, hexNegTokenInitNTLM),
		"SPNEGOResp":  WrapSPNEGOResp(AcceptIncomplete, mustHex(b, hexNLMP4243Chal)),
		"Kerberos":    krbGSS(OIDKerberos5, []byte{1, 0}, tagKrbAPReq),
	}
}

func BenchmarkDecodeToken(b *testing.B) {
	for name, tok := range benchTokens(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeToken(SchemeNegotiate, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/Decoder", func(b *testing.B) {
			b.ReportAllocs()
			var d Decoder
			for b.Loop() {
				if _, err := d.DecodeToken(SchemeNegotiate, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseHeader(b *testing.B) {
	cred := "NTLM " + base64.StdEncoding.EncodeToString(mustHex(b, hexNLMP4243Auth))
	chal := "Negotiate, NTLM " + base64.StdEncoding.EncodeToString(mustHex(b, hexNLMP4243Chal))
	b.Run("Credentials", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ParseCredentialsHeader(cred)
		}
	})
	b.Run("Credentials/Decoder", func(b *testing.B) {
		b.ReportAllocs()
		var d Decoder
		for b.Loop() {
			d.ParseCredentialsHeader(cred)
		}
	})
	b.Run("Challenge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ParseChallengeHeader(chal)
		}
	})
	b.Run("Challenge/Decoder", func(b *testing.B) {
		b.ReportAllocs()
		var d Decoder
		for b.Loop() {
			d.ParseChallengeHeader(chal)
		}
	})
}
