package ntlm

import "encoding/binary"

// The encoders build well-formed messages for tests and for lab servers and
// clients. Each sets the flags its content needs (NTLMSSP_NEGOTIATE_VERSION
// with a Version, NTLMSSP_NEGOTIATE_TARGET_INFO with TargetInfo, the OEM
// *_SUPPLIED bits with NEGOTIATE strings) and never clears a flag the caller
// set. Payload buffers follow the header in the order Windows uses; an empty
// buffer gets the offset where the payload would be, as Windows does.

// payloadWriter lays out security buffers after a header of known size.
type payloadWriter struct {
	msg []byte // header being filled in, then the payload appended
}

func newPayloadWriter(typ MessageType, headerSize int) *payloadWriter {
	msg := make([]byte, headerSize)
	copy(msg, Signature)
	binary.LittleEndian.PutUint32(msg[8:], uint32(typ))
	return &payloadWriter{msg: msg}
}

// put appends p to the payload and writes its security buffer header at
// at. Buffers longer than 65535 bytes are cut to fit the 16-bit length.
func (w *payloadWriter) put(at int, p []byte) {
	if len(p) > 0xffff {
		p = p[:0xffff]
	}
	binary.LittleEndian.PutUint16(w.msg[at:], uint16(len(p)))
	binary.LittleEndian.PutUint16(w.msg[at+2:], uint16(len(p)))
	binary.LittleEndian.PutUint32(w.msg[at+4:], uint32(len(w.msg)))
	w.msg = append(w.msg, p...)
}

// Marshal returns the wire form of the NEGOTIATE message. The domain and
// workstation are written as OEM bytes.
func (m *Negotiate) Marshal() []byte {
	flags := m.Flags
	if m.Domain != "" {
		flags |= NegotiateOEMDomainSupplied
	}
	if m.Workstation != "" {
		flags |= NegotiateOEMWorkstationSupplied
	}
	size := negotiateHeaderLen
	if m.Version != nil {
		flags |= NegotiateVersion
		size += versionLen
	}
	w := newPayloadWriter(TypeNegotiate, size)
	binary.LittleEndian.PutUint32(w.msg[12:], uint32(flags))
	if m.Version != nil {
		appendVersion(w.msg[:negotiateHeaderLen], m.Version)
	}
	w.put(16, []byte(m.Domain))
	w.put(24, []byte(m.Workstation))
	return w.msg
}

// Marshal returns the wire form of the CHALLENGE message. TargetName is
// UTF-16LE when Flags has NTLMSSP_NEGOTIATE_UNICODE, else OEM; the server
// challenge is written as 8 bytes (cut or zero-padded).
func (m *Challenge) Marshal() []byte {
	flags := m.Flags
	size := challengeHeaderLen
	if m.Version != nil {
		flags |= NegotiateVersion
		size += versionLen
	}
	if m.TargetInfo != nil {
		flags |= NegotiateTargetInfo
	}
	w := newPayloadWriter(TypeChallenge, size)
	binary.LittleEndian.PutUint32(w.msg[20:], uint32(flags))
	copy(w.msg[24:32], m.ServerChallenge)
	if m.Version != nil {
		appendVersion(w.msg[:challengeHeaderLen], m.Version)
	}
	w.put(12, encodeString(m.TargetName, flags.Has(NegotiateUnicode)))
	var info []byte
	if m.TargetInfo != nil {
		info = m.TargetInfo.Marshal()
	}
	w.put(40, info)
	return w.msg
}

// Marshal returns the wire form of the AUTHENTICATE message. Strings are
// UTF-16LE when Flags has NTLMSSP_NEGOTIATE_UNICODE, else OEM. LMResponse,
// NTResponse, EncryptedSessionKey and MIC are written as given; when
// NTResponse is empty and ClientBlob is set, the NT response is built from
// the blob (NTProofStr, zero when unset, then the blob). A MIC needs the
// Version slot before it: with a MIC and no Version, an all-zero Version is
// written. Response is ignored (it is derived when decoding).
func (m *Authenticate) Marshal() []byte {
	flags := m.Flags
	size := authFlagsEnd
	version := m.Version
	if version == nil && m.MIC != nil {
		version = &Version{}
	}
	if version != nil {
		flags |= NegotiateVersion
		size = authVersionEnd
	}
	if m.MIC != nil {
		size = authMICEnd
	}
	w := newPayloadWriter(TypeAuthenticate, size)
	binary.LittleEndian.PutUint32(w.msg[60:], uint32(flags))
	if version != nil {
		appendVersion(w.msg[:authFlagsEnd], version)
	}
	if m.MIC != nil {
		copy(w.msg[authVersionEnd:authMICEnd], m.MIC)
	}

	unicode := flags.Has(NegotiateUnicode)
	nt := []byte(m.NTResponse)
	if len(nt) == 0 && m.ClientBlob != nil {
		nt = m.ClientBlob.ntlmv2Response()
	}
	w.put(28, encodeString(m.Domain, unicode))
	w.put(36, encodeString(m.User, unicode))
	w.put(44, encodeString(m.Workstation, unicode))
	w.put(12, m.LMResponse)
	w.put(20, nt)
	w.put(52, m.EncryptedSessionKey)
	return w.msg
}
