// Package ntlm decodes and encodes what NTLM-over-HTTP puts on the wire: the
// WWW-Authenticate / Proxy-Authenticate and Authorization /
// Proxy-Authorization header values, the SPNEGO (RFC 4178) and GSS-API
// wrapping of Negotiate tokens, and the three NTLMSSP messages of MS-NLMP
// (NEGOTIATE, CHALLENGE, AUTHENTICATE) with their flags, VERSION, AV pairs
// and NTLMv2 client blob.
//
// It is a pure codec: no I/O, no globals, no goroutines. Decoders take a byte
// slice or a string and never panic; every length and offset is checked
// against the input with 64-bit arithmetic before slicing, and nothing is
// allocated from a count or length the input chooses. A bad input yields a
// *ParseError naming the wire field ("ntlm: NtChallengeResponseFields:
// offset 4294967295 + length 24 past end of 88-byte message"), wrapping
// ErrTruncated, ErrBadSignature, ErrUnknownType or ErrMalformed. Where part
// of a message is still readable, the decoders return it along with the
// error, so that a diagnostic tool can say as much as possible.
//
// Secrets (server challenges, LM and NT responses, NTProofStr, session keys,
// MICs, raw tokens) are held as Secret, which prints only "[redacted N
// bytes]" however it is formatted or marshalled; compare them with
// Secret.KeyedHash.
//
// The encoders (Marshal methods, WrapSPNEGOInit, WrapSPNEGOResp) and the
// NTLMv2 helpers (NTOWFv2, NTProofStr, VerifyNTLMv2) exist for tests and lab
// servers.
//
// The package does not: authenticate anyone against a domain, compute or
// check NTLMv1 responses, session keys beyond SessionBaseKeyV2, MICs, message
// signatures or sealing; decode Kerberos or NegoEx messages (it recognises
// them and says which Kerberos message a token holds); track the state of an
// exchange across messages or connections (that is the analyzer's job);
// guess OEM code pages (OEM strings are returned as the bytes sent).
package ntlm
