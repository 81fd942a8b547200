package synth

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// request is one HTTP request of a script.
type request struct {
	method   string
	target   string // origin-form path, or absolute-form URL to a proxy
	host     string
	proxy    bool   // sent to a proxy: Proxy-Connection, Proxy-Authorization
	auth     []byte // credentials header value; nil for none
	kerberos bool   // auth holds a Kerberos token
	body     int    // Content-Length body of that many bytes (POST)
	ctype    string // its Content-Type; "" for a form
	etag     bool   // a conditional GET (If-None-Match)
}

// offerKind says what a 401/407 carries, for the expected counts.
type offerKind uint8

const (
	noOffer   offerKind = iota
	bareOffer           // NTLM and/or Negotiate without a token: auth_offers
	challenge           // a Type 2: auth_challenges
)

// response is one HTTP response of a script.
type response struct {
	status  int
	proxy   bool     // Proxy-Authenticate instead of WWW-Authenticate
	offers  []string // challenge header values without a token
	token   []byte   // a challenge header value with a token; nil for none
	kind    offerKind
	body    int
	chunked bool
	ctype   string
	persist bool // Persistent-Auth: true (IIS after a successful handshake)
}

var (
	offerNTLM      = []string{"NTLM"}
	offerNegotiate = []string{"Negotiate", "NTLM"}
	// Request line targets.
	pagePaths   = []string{"/", "/sites/finance/default.aspx", "/sites/hr/Pages/Home.aspx", "/_layouts/15/start.aspx", "/owa/", "/intranet/news/", "/reports/view.aspx", "/_api/web/lists", "/api/v2/items", "/Portal/Dashboard"}
	staticPaths = []string{"/images/logo.png", "/scripts/app.js", "/styles/site.css", "/favicon.ico", "/fonts/segoe.woff2", "/images/banner.jpg"}
	proxyHosts  = []string{"www.example.com", "cdn.example.net", "login.example.org", "news.example.com", "updates.example.com"}
	// Canned bodies of the auth answers, as IIS and Squid write them.
	body401 = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>401 - Unauthorized: Access is denied due to invalid credentials.</title></head><body><h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2><h3>You do not have permission to view this directory or page using the credentials that you supplied.</h3></body></html>\r\n"
	body407 = "<html><head><title>ERROR: Cache Access Denied</title></head><body><h1>Cache Access Denied.</h1><p>Sorry, you are not currently allowed to request this page until you have authenticated yourself.</p></body></html>\n"
)

var reasons = map[int]string{200: "OK", 201: "Created", 304: "Not Modified", 401: "Unauthorized", 404: "Not Found", 407: "Proxy Authentication Required"}

// Pacing of back-to-back segments: servers send at about a gigabit,
// clients at about a hundred megabits.
const (
	serverPace = 15_000
	clientPace = 110_000
)

// script writes one conversation and adds what it contributes to the
// expected summary.
type script struct {
	g      *gen
	c      *conv
	ci     int
	cl     *client
	ntlm   bool // a Type 1 crossed the connection
	authed bool // an NTLM handshake authenticated the connection
}

// exchange scripts a request, the server's think time, and the response.
// It counts: one request and one response; a Kerberos exchange when the
// request carries a Kerberos token; an auth offer or challenge as the
// response's kind says; an authenticated request when a request without
// credentials on an authenticated connection is answered with anything but
// 401/407.
func (s *script) exchange(rq *request, rs *response, serverTime int64) {
	c, sum := s.c, &s.g.exp.Summary
	from := len(c.arena)
	c.arena = s.appendRequest(c.arena, rq)
	c.send(fromClient, from, len(c.arena), clientPace)
	c.wait(serverTime)
	from = len(c.arena)
	c.arena = s.appendResponse(c.arena, rs)
	c.send(fromServer, from, len(c.arena), serverPace)
	sum.HTTPRequests++
	sum.HTTPResponses++
	if rq.kerberos {
		sum.KerberosExchanges++
	}
	switch rs.kind {
	case bareOffer:
		sum.AuthOffers++
	case challenge:
		sum.AuthChallenges++
	}
	if rq.auth == nil && s.authed && rs.status != 401 && rs.status != 407 {
		sum.AuthenticatedRequests++
	}
}

// think waits for the client: a round trip plus d.
func (s *script) think(d int64) { s.c.wait(s.cl.rtt + d) }

func (s *script) appendRequest(b []byte, rq *request) []byte {
	b = append(b, rq.method...)
	b = append(b, ' ')
	b = append(b, rq.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, rq.host...)
	if rq.proxy {
		b = append(b, "\r\nProxy-Connection: keep-alive"...)
	} else {
		b = append(b, "\r\nConnection: keep-alive"...)
	}
	b = append(b, "\r\nUser-Agent: "...)
	b = append(b, userAgents[s.cl.agent]...)
	b = append(b, "\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"...)
	if rq.etag {
		b = append(b, "If-None-Match: \"0x8DC41A2B3C4D5E6\"\r\n"...)
	}
	if rq.auth != nil {
		if rq.proxy {
			b = append(b, "Proxy-Authorization: "...)
		} else {
			b = append(b, "Authorization: "...)
		}
		b = append(b, rq.auth...)
		b = append(b, "\r\n"...)
	}
	if rq.method != "POST" {
		return append(b, "\r\n"...)
	}
	ct := rq.ctype
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	b = append(b, "Content-Type: "...)
	b = append(b, ct...)
	b = append(b, "\r\nContent-Length: "...)
	n := bodyLen(ct, rq.body)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "\r\n\r\n"...)
	return s.g.appendTyped(b, ct, n)
}

func (s *script) appendResponse(b []byte, rs *response) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(rs.status), 10)
	b = append(b, ' ')
	b = append(b, reasons[rs.status]...)
	b = append(b, "\r\n"...)
	if rs.ctype == "" {
		rs.ctype = "text/html; charset=utf-8"
	}
	if rs.status != 304 {
		b = append(b, "Content-Type: "...)
		b = append(b, rs.ctype...)
		b = append(b, "\r\n"...)
	}
	if rs.proxy {
		b = append(b, "Server: squid/5.7\r\n"...)
	} else {
		b = append(b, "Server: Microsoft-IIS/10.0\r\n"...)
	}
	for _, v := range rs.offers {
		b = appendChallenge(b, rs.proxy, v)
	}
	if rs.token != nil {
		b = appendChallenge(b, rs.proxy, rs.token)
	}
	if rs.persist {
		b = append(b, "Persistent-Auth: true\r\n"...)
	}
	if rs.proxy {
		b = append(b, "Proxy-Connection: keep-alive\r\nConnection: keep-alive\r\n"...)
	} else {
		b = append(b, "X-Powered-By: ASP.NET\r\n"...)
	}
	b = append(b, "Date: "...)
	b = s.g.appendDate(b, s.c.clock+s.c.pending)
	b = append(b, "\r\n"...)
	switch {
	case rs.status == 304:
		return append(b, "ETag: \"0x8DC41A2B3C4D5E6\"\r\n\r\n"...)
	case rs.chunked:
		// Chunked bodies are binary downloads: no wrapper to keep whole.
		b = append(b, "Transfer-Encoding: chunked\r\n\r\n"...)
		for left := rs.body; left > 0; {
			n := min(left, 8192)
			b = strconv.AppendInt(b, int64(n), 16)
			b = append(b, "\r\n"...)
			b = s.g.appendBody(b, n)
			b = append(b, "\r\n"...)
			left -= n
		}
		return append(b, "0\r\n\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	body := rs.body
	canned := ""
	switch rs.status {
	case 401:
		canned = body401
	case 407:
		canned = body407
	}
	if canned != "" {
		body = len(canned)
	}
	ct := rs.ctype
	if canned == "" {
		body = bodyLen(ct, body)
	}
	b = strconv.AppendInt(b, int64(body), 10)
	b = append(b, "\r\n\r\n"...)
	if canned != "" {
		return append(b, canned...)
	}
	return s.g.appendTyped(b, ct, body)
}

// bodyWrap returns what a body of content type ct starts and ends with so
// that dissectors find it well formed: a SOAP envelope for XML, an object
// for JSON; the text between is words only.
func bodyWrap(ct string) (pre, suf string) {
	switch {
	case strings.HasPrefix(ct, "text/xml"):
		return xmlPre, xmlSuf
	case strings.HasPrefix(ct, "application/json"):
		return `{"value":"`, `"}`
	}
	return "", ""
}

const (
	xmlPre = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:Item xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">`
	xmlSuf = `</m:Item></s:Body></s:Envelope>`
)

// bodyLen returns n, or the least length that holds ct's wrapper.
func bodyLen(ct string, n int) int {
	pre, suf := bodyWrap(ct)
	return max(n, len(pre)+len(suf))
}

// appendTyped appends an n-byte body of content type ct (n from bodyLen).
func (g *gen) appendTyped(b []byte, ct string, n int) []byte {
	pre, suf := bodyWrap(ct)
	b = append(b, pre...)
	b = g.appendBody(b, n-len(pre)-len(suf))
	return append(b, suf...)
}

// appendChallenge appends a WWW-Authenticate (or Proxy-Authenticate) line.
func appendChallenge[T string | []byte](b []byte, proxy bool, v T) []byte {
	if proxy {
		b = append(b, "Proxy-Authenticate: "...)
	} else {
		b = append(b, "WWW-Authenticate: "...)
	}
	b = append(b, v...)
	return append(b, "\r\n"...)
}

// appendBody appends n bytes of page text.
func (g *gen) appendBody(b []byte, n int) []byte {
	for n > 0 {
		off := g.rng.IntN(len(g.text) / 2)
		k := min(n, len(g.text)-off)
		b = append(b, g.text[off:off+k]...)
		n -= k
	}
	return b
}

// appendDate appends the HTTP date of capture time ns (cached per second).
func (g *gen) appendDate(b []byte, ns int64) []byte {
	sec := ns / 1e9
	if sec != g.dateSec || g.date == nil {
		g.dateSec = sec
		g.date = time.Unix(sec, 0).UTC().AppendFormat(g.date[:0], http.TimeFormat)
	}
	return append(b, g.date...)
}
