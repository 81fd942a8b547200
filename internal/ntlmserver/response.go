package ntlmserver

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"strconv"
)

// The headers and bodies imitate IIS 10. Header names are set in the map
// directly: http.Header.Set would canonicalise "WWW-Authenticate" to
// "Www-Authenticate", and IIS spells it the RFC way.

const unauthorizedBody = `<!DOCTYPE html><html><head><title>401 - Unauthorized: Access is denied due to invalid credentials.</title></head>` +
	`<body><h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2></body></html>` + "\r\n"

// setCommon sets the headers IIS sends on every response.
func setCommon(h http.Header, contentType string) {
	h["Server"] = []string{"Microsoft-IIS/10.0"}
	h["X-Powered-By"] = []string{"ASP.NET"}
	h["Content-Type"] = []string{contentType}
}

// writeBody writes status and body with an explicit Content-Length, so that
// the connection stays open (HTTP/1.1 keep-alive).
func writeBody(w http.ResponseWriter, status int, body string) {
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// writeOffer answers 401 offering Negotiate and NTLM, one header each.
func writeOffer(w http.ResponseWriter) {
	setCommon(w.Header(), "text/html")
	w.Header()["WWW-Authenticate"] = []string{"Negotiate", "NTLM"}
	writeBody(w, http.StatusUnauthorized, unauthorizedBody)
}

// writeChallenge answers 401 with one challenge token under scheme.
func writeChallenge(w http.ResponseWriter, scheme string, token []byte) {
	setCommon(w.Header(), "text/html")
	w.Header()["WWW-Authenticate"] = []string{scheme + " " + base64.StdEncoding.EncodeToString(token)}
	writeBody(w, http.StatusUnauthorized, unauthorizedBody)
}

// writeOK serves the page. final, when set, is the last Negotiate token
// (SPNEGO accept-completed) that IIS sends with the response.
func writeOK(w http.ResponseWriter, backend, user, path string, final []byte) {
	setCommon(w.Header(), "text/html")
	if final != nil {
		w.Header()["WWW-Authenticate"] = []string{"Negotiate " + base64.StdEncoding.EncodeToString(final)}
	}
	who := user
	if who == "" {
		who = "anonymous"
	}
	body := fmt.Sprintf("<html><body><p>%s served %s to %s</p></body></html>\r\n",
		html.EscapeString(backend), html.EscapeString(path), html.EscapeString(who))
	writeBody(w, http.StatusOK, body)
}
