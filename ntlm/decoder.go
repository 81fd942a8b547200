package ntlm

// A Decoder parses HTTP auth headers and decodes tokens as
// ParseCredentialsHeader, ParseChallengeHeader and DecodeToken do, with the
// same results, but reuses its memory from one call to the next: it is for
// a caller that reads every header of a capture and keeps a few fields of
// each. Its results share memory with the Decoder and with their input:
//
//   - What ParseCredentialsHeader and ParseChallengeHeader return (token
//     bytes, the list of challenges) is valid until the next call of either.
//   - What DecodeToken returns (the Token, the message in it, its AV pairs
//     and Version) is valid until the next DecodeToken call; its Secret
//     fields and AV pair values are not copied but share b, so they are
//     valid only while b is unchanged too.
//   - Strings share nothing and may be kept. The Decoder remembers the
//     strings it decoded (user, domain, workstation and server names repeat
//     from message to message) and returns the same string again rather
//     than a new copy.
//
// The zero Decoder is ready to use. A Decoder is not safe for concurrent
// use.
type Decoder struct {
	b64    []byte      // decoded token bytes of the last header
	tokens []AuthToken // challenges of the last header

	// Memory the lists of the last token use.
	mechTypes []string
	pairList  []AVPair

	tok   Token
	neg   Negotiate
	chal  Challenge
	auth  Authenticate
	blob  NTLMv2Blob
	pairs AVPairs
	ver   Version

	// strs remembers decoded strings by their wire bytes: OEM in [0],
	// UTF-16 in [1].
	strs [2]map[string]string
}

// maxDecoderStrings bounds each of Decoder.strs; a full table is emptied.
// It holds the user, domain, workstation and server names of a site
// (thousands of workstations are common): a table that keeps emptying
// decodes and allocates every name again. At some 100 bytes an entry, a
// full table costs under 1 MB.
const maxDecoderStrings = 8192

// ParseCredentialsHeader is [ParseCredentialsHeader]; the token bytes share
// the Decoder's memory (see Decoder).
func (d *Decoder) ParseCredentialsHeader(value string) AuthToken {
	d.b64 = d.b64[:0]
	return parseCredentials(&authParser{s: value, d: d})
}

// ParseChallengeHeader is [ParseChallengeHeader]; the list and the token
// bytes share the Decoder's memory (see Decoder).
func (d *Decoder) ParseChallengeHeader(value string) []AuthToken {
	d.b64 = d.b64[:0]
	clear(d.tokens) // drop the strings of earlier headers
	d.tokens = parseChallenges(&authParser{s: value, d: d}, d.tokens[:0])
	if len(d.tokens) == 0 {
		return nil // as ParseChallengeHeader
	}
	return d.tokens
}

// DecodeToken is [DecodeToken]; the result shares the Decoder's memory and
// b (see Decoder).
func (d *Decoder) DecodeToken(scheme Scheme, b []byte) (*Token, error) {
	d.tok = Token{}
	return decodeToken(dec{d}, &d.tok, scheme, b)
}

// dec is how one decode gets its memory. The zero dec gives every message,
// list and secret memory of its own (Decode, DecodeToken); one with a
// Decoder reuses the Decoder's, shares secrets and AV pair values with the
// input, and reuses strings decoded before.
type dec struct {
	d *Decoder
}

// secret returns b as a Secret: a copy, or b itself (without spare
// capacity, so that an append cannot reach the input) for a Decoder. Empty
// input gives nil either way.
func (x dec) secret(b []byte) Secret {
	if len(b) == 0 {
		return nil
	}
	if x.d != nil {
		return Secret(b[:len(b):len(b)])
	}
	return cloneSecret(b)
}

// str decodes a string buffer as decodeString does, reusing a string
// decoded before from the same bytes for a Decoder.
func (x dec) str(p []byte, unicode bool, field string, errs *errList) string {
	if x.d == nil || len(p) == 0 || (unicode && len(p)%2 != 0) {
		return decodeString(p, unicode, field, errs) // odd lengths are rare: their error is recorded there
	}
	i := 0
	if unicode {
		i = 1
	}
	m := x.d.strs[i]
	if s, ok := m[string(p)]; ok {
		return s
	}
	s := decodeString(p, unicode, field, errs)
	if m == nil || len(m) >= maxDecoderStrings {
		m = make(map[string]string)
		x.d.strs[i] = m
	}
	m[string(p)] = s
	return s
}

// version reads a VERSION structure (see parseVersion).
func (x dec) version(b []byte) *Version {
	if x.d == nil {
		return parseVersion(b)
	}
	x.d.ver = readVersion(b)
	return &x.d.ver
}

// negotiate, challenge, authenticate, blob and avPairs return a zeroed
// value to decode into.
func (x dec) negotiate() *Negotiate {
	if x.d == nil {
		return &Negotiate{}
	}
	x.d.neg = Negotiate{}
	return &x.d.neg
}

func (x dec) challenge() *Challenge {
	if x.d == nil {
		return &Challenge{}
	}
	x.d.chal = Challenge{}
	return &x.d.chal
}

func (x dec) authenticate() *Authenticate {
	if x.d == nil {
		return &Authenticate{}
	}
	x.d.auth = Authenticate{}
	return &x.d.auth
}

func (x dec) blob() *NTLMv2Blob {
	if x.d == nil {
		return &NTLMv2Blob{}
	}
	x.d.blob = NTLMv2Blob{}
	return &x.d.blob
}

func (x dec) avPairs() *AVPairs {
	if x.d == nil {
		return &AVPairs{}
	}
	x.d.pairs = AVPairs{}
	return &x.d.pairs
}

// Lists: appendPair and appendMechType append to a list, in the Decoder's
// memory when there is one (a list that stays empty stays nil).
func (x dec) appendPair(list []AVPair, p AVPair) []AVPair {
	if list == nil && x.d != nil {
		clear(x.d.pairList[:cap(x.d.pairList)]) // drop the values of earlier messages
		list = x.d.pairList[:0]
	}
	list = append(list, p)
	if x.d != nil {
		x.d.pairList = list[:0]
	}
	return list
}

func (x dec) appendMechType(list []string, oid string) []string {
	if list == nil && x.d != nil {
		list = x.d.mechTypes[:0]
	}
	list = append(list, oid)
	if x.d != nil {
		x.d.mechTypes = list[:0]
	}
	return list
}
