package ntlm

// SPNEGO (RFC 4178) and the GSS-API framing (RFC 2743 3.1) around it.
//
// An HTTP Negotiate token is one of:
//
//	60 len                       InitialContextToken ([APPLICATION 0])
//	   06 len <OID>              thisMech: 1.3.6.1.5.5.2 SPNEGO, or a krb5 / NTLMSSP / NegoEx OID
//	   ...                       innerToken: for SPNEGO, [0] NegTokenInit;
//	                             for krb5, a 2-byte tok_id (01 00 AP-REQ, 02 00 AP-REP,
//	                             03 00 KRB-ERROR) then the Kerberos message
//	a1 len NegTokenResp          (server replies and later client tokens, not wrapped)
//	"NTLMSSP\0"...               raw NTLMSSP (Windows falls back to this under Negotiate)
//	6e / 6f / 7e                 a bare Kerberos AP-REQ / AP-REP / KRB-ERROR
//
//	NegTokenInit ::= SEQUENCE {                  NegTokenResp ::= SEQUENCE {
//	    mechTypes    [0] SEQUENCE OF OID,            negState      [0] ENUMERATED OPTIONAL,
//	    reqFlags     [1] BIT STRING OPTIONAL,        supportedMech [1] OID OPTIONAL,
//	    mechToken    [2] OCTET STRING OPTIONAL,      responseToken [2] OCTET STRING OPTIONAL,
//	    mechListMIC  [3] OCTET STRING OPTIONAL }     mechListMIC   [3] OCTET STRING OPTIONAL }
//
// Microsoft's NegTokenInit2 puts negHints at [3] and mechListMIC at [4]; both
// forms are read, unknown context tags skipped.

// decodeGSS decodes a GSS-API InitialContextToken (0x60).
func decodeGSS(x dec, t *Token, b []byte) error {
	c, _, err := readDERTag(b, tagGSSWrapper, "InitialContextToken")
	if err != nil {
		return err
	}
	oidBytes, inner, err := readDERTag(c, tagOID, "InitialContextToken.thisMech")
	if err != nil {
		return err
	}
	oid, err := parseOID(oidBytes, "InitialContextToken.thisMech")
	if err != nil {
		return err
	}
	switch mechForOID(oid) {
	case MechKerberos:
		t.Mech = MechKerberos
		t.MechToken = x.secret(b)
		var tokID []byte
		var tag byte
		if len(inner) >= gssTokIDSize {
			tokID = inner[:gssTokIDSize]
			if len(inner) > gssTokIDSize {
				tag = inner[gssTokIDSize]
			}
		}
		t.Kerberos = kerberosKind(tag, tokID)
		return nil
	case MechNTLM:
		return decodeMechToken(x, t, inner, oid)
	case MechNegoEx:
		t.Mech = MechNegoEx
		t.MechToken = x.secret(b)
		return nil
	}
	if oid != OIDSPNEGO {
		t.Mech = MechUnknown
		t.MechToken = x.secret(b)
		return nil
	}
	if len(inner) == 0 {
		return errTrunc("InitialContextToken.innerToken", "SPNEGO wrapper with no inner token")
	}
	switch inner[0] {
	case tagContext0:
		t.SPNEGO = NegTokenInit
		return decodeNegTokenInit(x, t, inner)
	case tagContext1:
		t.SPNEGO = NegTokenResp
		return decodeNegTokenResp(x, t, inner)
	}
	return errMalformed("InitialContextToken.innerToken", "SPNEGO inner token tag 0x%02x, want 0xa0 or 0xa1", inner[0])
}

// decodeNegTokenInit decodes [0] NegTokenInit.
func decodeNegTokenInit(x dec, t *Token, b []byte) error {
	c, _, err := readDERTag(b, tagContext0, "NegTokenInit")
	if err != nil {
		return err
	}
	seq, _, err := readDERTag(c, tagSequence, "NegTokenInit")
	if err != nil {
		return err
	}
	var mechToken []byte
	hasMechToken := false
	for len(seq) > 0 {
		var e derElem
		e, seq, err = readDER(seq, "NegTokenInit")
		if err != nil {
			return err
		}
		switch e.tag {
		case tagContext0:
			if err := parseMechTypes(x, t, e.content); err != nil {
				return err
			}
		case tagContext2:
			mechToken, _, err = readDERTag(e.content, tagOctetString, "NegTokenInit.mechToken")
			if err != nil {
				return err
			}
			hasMechToken = true
		case tagContext3, tagContext4:
			// mechListMIC ([3] OCTET STRING, or [4] in NegTokenInit2,
			// where [3] holds the negHints SEQUENCE).
			if mic, _, err := readDERTag(e.content, tagOctetString, "NegTokenInit.mechListMIC"); err == nil {
				t.MechListMIC = x.secret(mic)
			}
		}
	}
	if !hasMechToken {
		t.Mech = MechNone
		return nil
	}
	return decodeMechToken(x, t, mechToken, "")
}

// parseMechTypes reads the SEQUENCE OF OID of a NegTokenInit.
func parseMechTypes(x dec, t *Token, c []byte) error {
	seq, _, err := readDERTag(c, tagSequence, "NegTokenInit.mechTypes")
	if err != nil {
		return err
	}
	for len(seq) > 0 {
		var oid []byte
		oid, seq, err = readDERTag(seq, tagOID, "NegTokenInit.mechTypes")
		if err != nil {
			return err
		}
		s, err := parseOID(oid, "NegTokenInit.mechTypes")
		if err != nil {
			return err
		}
		t.MechTypes = x.appendMechType(t.MechTypes, s)
	}
	return nil
}

// decodeNegTokenResp decodes [1] NegTokenResp.
func decodeNegTokenResp(x dec, t *Token, b []byte) error {
	c, _, err := readDERTag(b, tagContext1, "NegTokenResp")
	if err != nil {
		return err
	}
	seq, _, err := readDERTag(c, tagSequence, "NegTokenResp")
	if err != nil {
		return err
	}
	var respToken []byte
	hasRespToken := false
	for len(seq) > 0 {
		var e derElem
		e, seq, err = readDER(seq, "NegTokenResp")
		if err != nil {
			return err
		}
		switch e.tag {
		case tagContext0:
			v, _, err := readDERTag(e.content, tagEnumerated, "NegTokenResp.negState")
			if err != nil {
				return err
			}
			if len(v) != 1 || v[0] > 0x7f {
				return errMalformed("NegTokenResp.negState", "ENUMERATED of %d bytes", len(v))
			}
			t.NegState = NegState(v[0])
		case tagContext1:
			oid, _, err := readDERTag(e.content, tagOID, "NegTokenResp.supportedMech")
			if err != nil {
				return err
			}
			if t.SupportedMech, err = parseOID(oid, "NegTokenResp.supportedMech"); err != nil {
				return err
			}
		case tagContext2:
			respToken, _, err = readDERTag(e.content, tagOctetString, "NegTokenResp.responseToken")
			if err != nil {
				return err
			}
			hasRespToken = true
		case tagContext3:
			mic, _, err := readDERTag(e.content, tagOctetString, "NegTokenResp.mechListMIC")
			if err != nil {
				return err
			}
			t.MechListMIC = x.secret(mic)
		}
	}
	if !hasRespToken || len(respToken) == 0 {
		// No mechanism token: supportedMech says which mechanism the
		// server picked (request-mic after a Kerberos-to-NTLM fallback),
		// or nothing is carried at all (a final accept-completed).
		t.Mech = mechForOID(t.SupportedMech)
		return nil
	}
	return decodeMechToken(x, t, respToken, t.SupportedMech)
}

// WrapSPNEGOInit wraps an NTLMSSP message in a GSS-API InitialContextToken
// holding a SPNEGO NegTokenInit with mechTypes = [NTLMSSP] and mechToken =
// ntlm, as a client sends it in "Authorization: Negotiate".
func WrapSPNEGOInit(ntlm []byte) []byte {
	mechTypes := appendDER(nil, tagSequence, appendDER(nil, tagOID, encodeOID(OIDNTLMSSP)))
	body := appendDER(nil, tagContext0, mechTypes)
	body = appendDER(body, tagContext2, appendDER(nil, tagOctetString, ntlm))
	init := appendDER(nil, tagContext0, appendDER(nil, tagSequence, body))
	inner := append(appendDER(nil, tagOID, encodeOID(OIDSPNEGO)), init...)
	return appendDER(nil, tagGSSWrapper, inner)
}

// WrapSPNEGOResp wraps an NTLMSSP message in a SPNEGO NegTokenResp with the
// given negState (left out when NegStateAbsent) and responseToken = ntlm
// (left out when empty). supportedMech = NTLMSSP is included when ntlm is a
// CHALLENGE, as a server's first answer carries it.
func WrapSPNEGOResp(state NegState, ntlm []byte) []byte {
	var body []byte
	if state != NegStateAbsent {
		body = appendDER(body, tagContext0, appendDER(nil, tagEnumerated, []byte{byte(state)}))
	}
	if len(ntlm) >= headerLen && IsNTLMSSP(ntlm) && ntlm[8] == byte(TypeChallenge) && ntlm[9] == 0 {
		body = appendDER(body, tagContext1, appendDER(nil, tagOID, encodeOID(OIDNTLMSSP)))
	}
	if len(ntlm) > 0 {
		body = appendDER(body, tagContext2, appendDER(nil, tagOctetString, ntlm))
	}
	return appendDER(nil, tagContext1, appendDER(nil, tagSequence, body))
}
