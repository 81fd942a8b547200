package synth

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// Token wrapping: raw NTLMSSP under the NTLM scheme, or SPNEGO under
// Negotiate.
const (
	wrapNTLM = iota
	wrapNegotiate
	numWraps
)

// template is an auth header value ("NTLM TlRMTVNT…") built and
// base64-encoded once and reused. Reused token bytes would link unrelated
// connections (ntlmscope links connections that carry the same Type 2,
// Type 3 or Kerberos token, as the two legs of a proxy do), so each use
// overwrites a run of base64 characters that encodes opaque bytes (the
// server challenge, NTProofStr, Kerberos ciphertext) with a per-use value.
type template struct {
	val   []byte
	patch int // offset in val of the run to overwrite; -1 for none
	plen  int // its length: 8 or 16 characters (6 or 12 bytes)
}

// newTemplate encodes tok under scheme; [from, to) are opaque bytes of tok
// that may be overwritten per use (from == to: none).
func newTemplate(scheme string, tok []byte, from, to int) *template {
	t := &template{patch: -1}
	t.val = append([]byte(scheme+" "), base64.StdEncoding.EncodeToString(tok)...)
	// A run of base64 characters encodes whole 3-byte groups: take the
	// first group that starts inside the region and enough groups to fit.
	p := (from + 2) / 3 * 3
	for _, n := range []int{12, 6} {
		if to-from > 0 && p+n <= to {
			t.patch, t.plen = len(scheme)+1+p/3*4, n/3*4
			break
		}
	}
	return t
}

// appendTo appends the value with use number u patched in.
func (t *template) appendTo(dst []byte, u uint64) []byte {
	start := len(dst)
	dst = append(dst, t.val...)
	if t.patch >= 0 {
		var raw [16]byte
		binary.LittleEndian.PutUint64(raw[0:], mix64(u))
		binary.LittleEndian.PutUint64(raw[8:], mix64(u^0x9e3779b97f4a7c15))
		base64.StdEncoding.Encode(dst[start+t.patch:start+t.patch+t.plen], raw[:t.plen/4*3])
	}
	return dst
}

// mix64 is SplitMix64's finaliser: distinct inputs give distinct,
// random-looking outputs.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// tokens holds every template a capture uses. Type 3 templates depend on
// the client (user, workstation) and the server identity they answer, and
// are built on first use.
type tokens struct {
	w       *world
	dnsDom  []string // DNS domain per Domains entry
	bin     []byte   // random bytes for opaque fields
	stamp   time.Time
	t1      [numWraps]*template
	t2      [][numWraps]*template // per identity
	t2Info  []*ntlm.AVPairs
	t3      []*template // [(client*identities+identity)*numWraps+wrap]
	negDone []byte      // Negotiate accept-completed answer
	krbReq  *template
	krbRep  []byte
	uses    uint64
}

var (
	winVersion    = &ntlm.Version{Major: 10, Minor: 0, Build: 19041, Revision: 15}
	serverVersion = &ntlm.Version{Major: 10, Minor: 0, Build: 20348, Revision: 15}
	clientFlags   = ntlm.NegotiateUnicode | ntlm.NegotiateOEM | ntlm.RequestTarget | ntlm.NegotiateSign |
		ntlm.NegotiateNTLM | ntlm.NegotiateAlwaysSign | ntlm.NegotiateExtendedSessionSecurity |
		ntlm.Negotiate128 | ntlm.NegotiateKeyExch | ntlm.Negotiate56
	serverFlags = ntlm.NegotiateUnicode | ntlm.RequestTarget | ntlm.NegotiateSign | ntlm.NegotiateNTLM |
		ntlm.NegotiateAlwaysSign | ntlm.TargetTypeDomain | ntlm.NegotiateExtendedSessionSecurity |
		ntlm.Negotiate128 | ntlm.NegotiateKeyExch | ntlm.Negotiate56
)

// webHost is the name clients use for the virtual IP.
const webHost = "intranet.corp.example"

func newTokens(w *world, cfg *Config, bin []byte) *tokens {
	t := &tokens{w: w, bin: bin, stamp: cfg.Start.Add(-90 * time.Second)}
	for _, d := range cfg.Domains {
		t.dnsDom = append(t.dnsDom, strings.ToLower(d)+".example")
	}
	t1 := (&ntlm.Negotiate{Flags: clientFlags, Version: winVersion}).Marshal()
	t.t1[wrapNTLM] = newTemplate("NTLM", t1, 0, 0)
	t.t1[wrapNegotiate] = newTemplate("Negotiate", ntlm.WrapSPNEGOInit(t1), 0, 0)
	for i, id := range w.identities {
		info := &ntlm.AVPairs{
			NbDomainName: cfg.Domains[0], NbComputerName: id,
			DnsDomainName: t.dnsDom[0], DnsComputerName: strings.ToLower(id) + "." + t.dnsDom[0],
			DnsTreeName: t.dnsDom[0],
			// Each server's clock differs a little.
			Timestamp: t.stamp.Add(time.Duration(i) * 37 * time.Millisecond), HasTimestamp: true,
		}
		t.t2Info = append(t.t2Info, info)
		msg := (&ntlm.Challenge{
			Flags: serverFlags, TargetName: cfg.Domains[0], ServerChallenge: ntlm.Secret(bin[i*8 : i*8+8]),
			Version: serverVersion, TargetInfo: info,
		}).Marshal()
		var pair [numWraps]*template
		pair[wrapNTLM] = newTemplate("NTLM", msg, 24, 32)
		wrapped := ntlm.WrapSPNEGOResp(ntlm.AcceptIncomplete, msg)
		at := bytes.Index(wrapped, msg)
		pair[wrapNegotiate] = newTemplate("Negotiate", wrapped, at+24, at+32)
		t.t2 = append(t.t2, pair)
	}
	t.t3 = make([]*template, len(w.clients)*len(w.identities)*numWraps)
	t.negDone = append([]byte("Negotiate "), base64.StdEncoding.EncodeToString(ntlm.WrapSPNEGOResp(ntlm.AcceptCompleted, nil))...)
	krb, from, to := kerberosAPReq(strings.ToUpper(t.dnsDom[0]), webHost, bin)
	t.krbReq = newTemplate("Negotiate", krb, from, to)
	t.krbRep = append([]byte("Negotiate "), base64.StdEncoding.EncodeToString(kerberosAPRep(bin))...)
	return t
}

// use returns the next use number.
func (t *tokens) use() uint64 {
	t.uses++
	return t.uses
}

// type1 appends a Type 1 header value.
func (t *tokens) type1(dst []byte, wrap int) []byte { return t.t1[wrap].appendTo(dst, 0) }

// type2 appends a fresh Type 2 of server identity id.
func (t *tokens) type2(dst []byte, id, wrap int) []byte { return t.t2[id][wrap].appendTo(dst, t.use()) }

// type3 appends a fresh Type 3 of client ci answering identity id.
func (t *tokens) type3(dst []byte, ci, id, wrap int) []byte {
	k := (ci*len(t.w.identities)+id)*numWraps + wrap
	if t.t3[k] == nil {
		t.t3[k] = t.buildType3(ci, id, wrap)
	}
	return t.t3[k].appendTo(dst, t.use())
}

// kerberos appends a fresh Kerberos AP-REQ under Negotiate.
func (t *tokens) kerberos(dst []byte) []byte { return t.krbReq.appendTo(dst, t.use()) }

// buildType3 builds the NTLMv2 AUTHENTICATE of client ci for identity id:
// the blob echoes the identity's AV pairs and timestamp, as a client echoes
// the Type 2 it answers, with a MIC, MsvAvFlags saying so, an all-zero
// channel binding (plain HTTP) and the SPN. NTProofStr is computed over the
// template's challenge; per-use patching overwrites it anyway.
func (t *tokens) buildType3(ci, id, wrap int) *template {
	c := &t.w.clients[ci]
	u := &t.w.users[c.user]
	echo := *t.t2Info[id]
	echo.Flags, echo.HasFlags = ntlm.AvFlagMICPresent, true
	echo.HasChannelBindings = true
	echo.TargetName = "HTTP/" + webHost
	cc := t.bin[100+ci%512 : 108+ci%512]
	blob := &ntlm.NTLMv2Blob{Timestamp: echo.Timestamp, Pairs: &echo, ClientChallenge: ntlm.Secret(cc)}
	ntowf := ntlm.NTOWFv2(u.name, u.domain, "Winter2024!"+u.name)
	proof := ntlm.NTProofStr(ntowf, t.bin[id*8:id*8+8], blob.Marshal())
	blob.NTProofStr = ntlm.Secret(proof)
	mic := hmac.New(md5.New, proof)
	mic.Write([]byte(c.workstation))
	msg := (&ntlm.Authenticate{
		Flags: clientFlags | ntlm.NegotiateTargetInfo, Domain: u.domain, User: u.name, Workstation: c.workstation,
		Version: winVersion, LMResponse: make(ntlm.Secret, 24), EncryptedSessionKey: ntlm.Secret(t.bin[200:216]),
		MIC: ntlm.Secret(mic.Sum(nil)), ClientBlob: blob,
	}).Marshal()
	ntOff := int(binary.LittleEndian.Uint32(msg[24:28]))
	if wrap == wrapNTLM {
		return newTemplate("NTLM", msg, ntOff, ntOff+16)
	}
	wrapped := ntlm.WrapSPNEGOResp(ntlm.NegStateAbsent, msg)
	at := bytes.Index(wrapped, msg)
	return newTemplate("Negotiate", wrapped, at+ntOff, at+ntOff+16)
}
