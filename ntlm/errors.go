package ntlm

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by *ParseError, for callers that test with errors.Is.
var (
	// ErrTruncated reports a field that reaches past the end of its buffer:
	// a fixed header cut short, or a security buffer, AV pair or DER element
	// whose offset and length point beyond the bytes present.
	ErrTruncated = errors.New("ntlm: truncated")

	// ErrBadSignature reports a message that does not start with "NTLMSSP\x00".
	ErrBadSignature = errors.New("ntlm: bad signature")

	// ErrUnknownType reports an NTLMSSP message type other than 1, 2 or 3, or a
	// token that is neither NTLMSSP, SPNEGO nor Kerberos.
	ErrUnknownType = errors.New("ntlm: unknown message type")

	// ErrMalformed reports a field that is present but cannot be decoded: a
	// UTF-16 string of odd length, a token that is not base64, bad DER.
	ErrMalformed = errors.New("ntlm: malformed")
)

// ParseError describes why a header, token or message could not be decoded
// completely. Field names the wire field, using the MS-NLMP name where there
// is one ("NtChallengeResponseFields", "TargetInfo", "token"). Err is one of
// the sentinel errors above, so errors.Is(err, ErrTruncated) works.
//
// A ParseError never contains secret bytes: messages quote offsets, lengths
// and tags only.
type ParseError struct {
	Msg   string // what is wrong, lower case, no trailing period
	Field string // the wire field, "" when the error concerns the whole input
	Err   error  // sentinel: ErrTruncated, ErrBadSignature, ErrUnknownType or ErrMalformed
}

// Error returns "ntlm: <field>: <msg>".
func (e *ParseError) Error() string {
	if e.Field == "" {
		return "ntlm: " + e.Msg
	}
	return "ntlm: " + e.Field + ": " + e.Msg
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

// errTrunc builds a ParseError wrapping ErrTruncated.
func errTrunc(field, format string, args ...any) *ParseError {
	return &ParseError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrTruncated}
}

// errMalformed builds a ParseError wrapping ErrMalformed.
func errMalformed(field, format string, args ...any) *ParseError {
	return &ParseError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

// errList keeps the first error seen while a decoder goes on reading the
// fields it still can. A decoder that meets a bad buffer keeps going, so that
// a diagnostic tool can still show the user name of a message whose domain
// buffer is out of range, and reports the first problem.
type errList struct {
	first *ParseError
}

func (l *errList) add(e *ParseError) {
	if e != nil && l.first == nil {
		l.first = e
	}
}

// err returns the first error as an error interface (nil when there is none,
// never a typed nil).
func (l *errList) err() error {
	if l.first == nil {
		return nil
	}
	return l.first
}
