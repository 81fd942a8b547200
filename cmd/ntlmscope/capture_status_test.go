package main

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// nopHandler ignores events.
type nopHandler struct{}

func (nopHandler) ConnectionOpened(*reassembly.Conn)                                   {}
func (nopHandler) Request(*reassembly.Conn, *reassembly.Message)                       {}
func (nopHandler) Response(*reassembly.Conn, *reassembly.Message, *reassembly.Message) {}
func (nopHandler) ConnectionClosed(*reassembly.Conn)                                   {}

func authRequest(header, scheme string, token []byte) *reassembly.Message {
	return &reassembly.Message{Request: true, Method: "GET", Target: "/",
		Header: []reassembly.HeaderField{{Name: header, Value: scheme + " " + base64.StdEncoding.EncodeToString(token)}}}
}

func TestLiveCounterCountsLogins(t *testing.T) {
	type3 := (&ntlm.Authenticate{User: "alice", Domain: "LAB", NTResponse: make([]byte, 48)}).Marshal()
	type1 := (&ntlm.Negotiate{}).Marshal()
	l := newLiveCounter(nopHandler{})
	c1, c2 := &reassembly.Conn{ID: 1}, &reassembly.Conn{ID: 2}
	l.ConnectionOpened(c1)
	l.ConnectionOpened(c2)

	steps := []struct {
		c      *reassembly.Conn
		req    *reassembly.Message
		status int
	}{
		{c1, authRequest("Authorization", "NTLM", type1), 401},                           // Type 1: not a login yet
		{c1, authRequest("Authorization", "NTLM", type3), 200},                           // accepted
		{c2, authRequest("Proxy-Authorization", "Negotiate", type3), 407},                // rejected
		{c2, authRequest("Authorization", "Negotiate", ntlm.WrapSPNEGOInit(type3)), 401}, // SPNEGO-wrapped, rejected
		{c2, &reassembly.Message{Request: true, Method: "GET", Target: "/"}, 200},        // no credentials
	}
	for _, s := range steps {
		l.Request(s.c, s.req)
		l.Response(s.c, s.req, &reassembly.Message{Status: s.status})
	}
	if l.ok != 1 || l.fail != 2 || len(l.open) != 2 {
		t.Errorf("ok %d fail %d open %d, want 1, 2, 2", l.ok, l.fail, len(l.open))
	}
	l.ConnectionClosed(c1)
	if len(l.open) != 1 {
		t.Errorf("%d open after a close, want 1", len(l.open))
	}
}

func TestLiveStatusLineOnlyOnTTY(t *testing.T) {
	stats := func() reassembly.SourceStats {
		return reassembly.SourceStats{Packets: 1234, Bytes: 5_600_000, KernelDrops: 7}
	}
	counts := newLiveCounter(nopHandler{})
	counts.ok, counts.fail = 3, 1

	var errOut bytes.Buffer
	s := newLiveStatus(&IOStreams{ErrOut: &errOut}, stats, counts, nil)
	s.tick()
	s.clear()
	if errOut.Len() != 0 {
		t.Errorf("status written to a non-terminal: %q", errOut.String())
	}

	s = newLiveStatus(&IOStreams{ErrOut: &errOut, StderrTTY: true}, stats, counts, nil)
	s.start = time.Now().Add(-65 * time.Second)
	s.tick()
	s.tick() // too soon: not redrawn
	want := "\r\x1b[K1m5s  1234 packets, 5.6 MB, 7 DROPPED by the kernel | 0 HTTP connections open | NTLM logins: 3 accepted, 1 rejected"
	if errOut.String() != want {
		t.Errorf("status line\n %q\nwant\n %q", errOut.String(), want)
	}
	s.clear()
	if !strings.HasSuffix(errOut.String(), "\r\x1b[K") {
		t.Errorf("clear did not erase the line: %q", errOut.String())
	}
}
