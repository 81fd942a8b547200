package ntlm

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"strings"
	"time"

	"golang.org/x/crypto/md4" //lint:ignore SA1019 MD4 is what MS-NLMP's NTOWF uses; it is not used for anything else.
)

// NTLMv2Blob is the client blob of an NTLMv2 response (MS-NLMP 2.2.2.8
// NTLMv2_RESPONSE and 2.2.2.7 NTLMv2_CLIENT_CHALLENGE):
//
//	offset  size  field
//	0       16    NTProofStr
//	16      1     RespType = 1
//	17      1     HiRespType = 1
//	18      2     Reserved1
//	20      4     Reserved2
//	24      8     TimeStamp (FILETIME)
//	32      8     ChallengeFromClient
//	40      4     Reserved3
//	44      -     AvPairs (the server's TargetInfo echoed, plus the client's own pairs), MsvAvEOL
//	-       4+    Reserved4 / padding (Windows adds zeros)
//
// Offsets are from the start of NtChallengeResponse. The client echoes the
// pairs of the CHALLENGE it answers, so Pairs names the server whose
// challenge this is (Pairs.ServerIdentity) and its MsvAvTimestamp.
type NTLMv2Blob struct {
	Timestamp       time.Time // blob TimeStamp, UTC; zero time for FILETIME 0
	Pairs           *AVPairs
	NTProofStr      Secret // 16 bytes
	ClientChallenge Secret // 8 bytes
}

const (
	ntProofStrLen  = 16
	blobHeaderLen  = 28 // RespType through Reserved3
	ntlmv2MinLen   = ntProofStrLen + blobHeaderLen
	blobRespType   = 1
	blobReserved4  = 4
	clientChalLen  = 8
	ntlmv2RespName = "NtChallengeResponse"
)

// parseNTLMv2Response decodes an NTLMv2 NtChallengeResponse.
func parseNTLMv2Response(x dec, nt []byte) (*NTLMv2Blob, *ParseError) {
	if len(nt) < ntlmv2MinLen {
		return nil, errTrunc(ntlmv2RespName, "NTLMv2 response is %d bytes, need %d", len(nt), ntlmv2MinLen)
	}
	b := x.blob()
	b.NTProofStr = x.secret(nt[:ntProofStrLen])
	b.Timestamp = fileTimeToTime(binary.LittleEndian.Uint64(nt[24:]))
	b.ClientChallenge = x.secret(nt[32:40])
	var err *ParseError
	b.Pairs, err = parseAVPairs(x, nt[ntlmv2MinLen:], "NTLMv2Response.AvPairs")
	return b, err
}

// Marshal returns the blob as it follows NTProofStr in an NTLMv2 response
// (the "temp" of MS-NLMP 3.3.2): RespType, HiRespType, zeros, TimeStamp,
// ClientChallenge, zeros, the AV pairs with MsvAvEOL, and 4 zero bytes. This
// is what NTProofStr is computed over.
func (b *NTLMv2Blob) Marshal() []byte {
	out := []byte{blobRespType, blobRespType, 0, 0, 0, 0, 0, 0}
	out = binary.LittleEndian.AppendUint64(out, timeToFileTime(b.Timestamp))
	var cc [clientChalLen]byte
	copy(cc[:], b.ClientChallenge)
	out = append(out, cc[:]...)
	out = append(out, 0, 0, 0, 0)
	out = append(out, b.Pairs.Marshal()...)
	return append(out, make([]byte, blobReserved4)...)
}

// ntlmv2Response returns NTProofStr (16 bytes, zeros when unset) followed by
// the blob.
func (b *NTLMv2Blob) ntlmv2Response() []byte {
	var proof [ntProofStrLen]byte
	copy(proof[:], b.NTProofStr)
	return append(proof[:], b.Marshal()...)
}

// NTOWFv2 returns ResponseKeyNT for NTLMv2 (MS-NLMP 3.3.2):
// HMAC_MD5(MD4(UNICODE(password)), UNICODE(Uppercase(user) + domain)).
func NTOWFv2(user, domain, password string) []byte {
	h := md4.New()
	h.Write(encodeUTF16(password))
	m := hmac.New(md5.New, h.Sum(nil))
	m.Write(encodeUTF16(strings.ToUpper(user) + domain))
	return m.Sum(nil)
}

// NTProofStr returns HMAC_MD5(ntowf, serverChallenge + blob), where blob is
// the client blob as NTLMv2Blob.Marshal returns it (everything after the
// first 16 bytes of the NT response).
func NTProofStr(ntowf, serverChallenge, blob []byte) []byte {
	m := hmac.New(md5.New, ntowf)
	m.Write(serverChallenge)
	m.Write(blob)
	return m.Sum(nil)
}

// NTLMv2Response returns the NtChallengeResponse for blob: NTProofStr + blob.
func NTLMv2Response(ntowf, serverChallenge, blob []byte) []byte {
	return append(NTProofStr(ntowf, serverChallenge, blob), blob...)
}

// LMv2Response returns the LmChallengeResponse of NTLMv2:
// HMAC_MD5(ntowf, serverChallenge + clientChallenge) + clientChallenge.
func LMv2Response(ntowf, serverChallenge, clientChallenge []byte) []byte {
	m := hmac.New(md5.New, ntowf)
	m.Write(serverChallenge)
	m.Write(clientChallenge)
	return append(m.Sum(nil), clientChallenge...)
}

// SessionBaseKeyV2 returns the NTLMv2 SessionBaseKey:
// HMAC_MD5(ntowf, NTProofStr).
func SessionBaseKeyV2(ntowf, ntProofStr []byte) []byte {
	m := hmac.New(md5.New, ntowf)
	m.Write(ntProofStr)
	return m.Sum(nil)
}

// VerifyNTLMv2 reports whether ntResponse (an NTLMv2 NtChallengeResponse:
// NTProofStr followed by the blob) was computed with ntowf (see NTOWFv2) for
// serverChallenge. The comparison takes constant time.
func VerifyNTLMv2(ntowf, serverChallenge, ntResponse []byte) bool {
	if len(ntResponse) < ntlmv2MinLen {
		return false
	}
	want := NTProofStr(ntowf, serverChallenge, ntResponse[ntProofStrLen:])
	return hmac.Equal(want, ntResponse[:ntProofStrLen])
}
