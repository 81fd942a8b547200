package ntlm

import (
	"time"
)

// Compile-time check of the API in CONTRACT.md: the analyzer is written
// against these exact names and signatures. If this file stops compiling,
// the contract was broken.
var (
	_ func(Secret) int              = Secret.Len
	_ func(Secret, []byte) [32]byte = Secret.KeyedHash
	_ func(Secret) string           = Secret.String
	_ func(Secret) string           = Secret.GoString
	_ func(Secret) ([]byte, error)  = Secret.MarshalJSON

	_                                      = []Scheme{SchemeUnknown, SchemeNTLM, SchemeNegotiate, SchemeKerberos, SchemeBasic, SchemeDigest, SchemeBearer}
	_ func(Scheme) string                  = Scheme.String
	_                                      = AuthToken{Scheme: SchemeNTLM, SchemeName: "", Token: Secret(nil), Err: error(nil)}
	_ func(string) []AuthToken             = ParseChallengeHeader
	_ func(string) AuthToken               = ParseCredentialsHeader
	_                                      = []Mech{MechNone, MechNTLM, MechKerberos, MechNegoEx, MechUnknown}
	_ func(Mech) string                    = Mech.String
	_                                      = []NegState{NegStateAbsent, AcceptCompleted, AcceptIncomplete, Reject, RequestMIC}
	_ func(NegState) string                = NegState.String
	_                                      = []SPNEGOKind{NotSPNEGO, NegTokenInit, NegTokenResp}
	_                                      = []KerberosKind{KerberosNone, KerberosAPReq, KerberosAPRep, KerberosError, KerberosOther}
	_                                      = Token{SPNEGO: NotSPNEGO, NegState: NegStateAbsent, MechTypes: []string(nil), SupportedMech: "", Mech: MechNone, Kerberos: KerberosNone, NTLM: Message(nil)}
	_ func(Scheme, []byte) (*Token, error) = DecodeToken

	_                                           = []MessageType{TypeNegotiate, TypeChallenge, TypeAuthenticate}
	_ func(MessageType) string                  = MessageType.String
	_ func([]byte) (Message, error)             = Decode
	_ func(NegotiateFlags, NegotiateFlags) bool = NegotiateFlags.Has
	_ func(NegotiateFlags) string               = NegotiateFlags.String
	_ func(NegotiateFlags) []string             = NegotiateFlags.Names
	_                                           = []NegotiateFlags{NegotiateUnicode, NegotiateOEM, NegotiateSign, NegotiateSeal, NegotiateExtendedSessionSecurity,
		NegotiateKeyExch, Negotiate128, Negotiate56, NegotiateVersion, NegotiateTargetInfo, NegotiateAnonymous}
	_                      = Version{Major: uint8(0), Minor: uint8(0), Build: uint16(0), Revision: uint8(0)}
	_ func(Version) string = Version.String

	_ Message = &Negotiate{Flags: 0, Domain: "", Workstation: "", Version: (*Version)(nil)}
	_ Message = &Challenge{Flags: 0, TargetName: "", ServerChallenge: Secret(nil), Version: (*Version)(nil), TargetInfo: (*AVPairs)(nil)}
	_ Message = &Authenticate{Flags: 0, Domain: "", User: "", Workstation: "", Version: (*Version)(nil),
		LMResponse: Secret(nil), NTResponse: Secret(nil), EncryptedSessionKey: Secret(nil), MIC: Secret(nil),
		Response: ResponseAnonymous, ClientBlob: (*NTLMv2Blob)(nil)}
	_                           = []ResponseKind{ResponseAnonymous, ResponseLM, ResponseNTLMv1, ResponseNTLMv1ESS, ResponseNTLMv2}
	_ func(ResponseKind) string = ResponseKind.String
	_                           = NTLMv2Blob{Timestamp: time.Time{}, Pairs: (*AVPairs)(nil), NTProofStr: Secret(nil)}

	_ = []AVID{AvEOL, AvNbComputerName, AvNbDomainName, AvDnsComputerName, AvDnsDomainName, AvDnsTreeName,
		AvFlags, AvTimestamp, AvSingleHost, AvTargetName, AvChannelBindings}
	_ func(AVID) string = AVID.String
	_                   = AVPair{ID: AvEOL, Value: []byte(nil)}
	_                   = AVPairs{Pairs: []AVPair(nil), NbComputerName: "", NbDomainName: "", DnsComputerName: "", DnsDomainName: "", DnsTreeName: "", TargetName: "",
		Timestamp: time.Time{}, HasTimestamp: false, Flags: uint32(0), HasFlags: false, HasChannelBindings: false, ChannelBindingsZero: false}
	_ func(*AVPairs) string = (*AVPairs).ServerIdentity

	_       = ParseError{Msg: "", Field: "", Err: error(nil)}
	_ error = &ParseError{}
	_       = []error{ErrTruncated, ErrBadSignature, ErrUnknownType}

	// Encoders and NTLMv2 helpers the brief asks for.
	_ func(*Negotiate) []byte             = (*Negotiate).Marshal
	_ func(*Challenge) []byte             = (*Challenge).Marshal
	_ func(*Authenticate) []byte          = (*Authenticate).Marshal
	_ func(*AVPairs) []byte               = (*AVPairs).Marshal
	_ func([]byte) []byte                 = WrapSPNEGOInit
	_ func(NegState, []byte) []byte       = WrapSPNEGOResp
	_ func(string, string, string) []byte = NTOWFv2
	_ func([]byte, []byte, []byte) []byte = NTProofStr
	_ func([]byte, []byte, []byte) bool   = VerifyNTLMv2
)
