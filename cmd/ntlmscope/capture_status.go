package main

import (
	"fmt"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// liveCounter passes the reassembler's events to the analyzer and keeps
// the live counts of the status line: HTTP connections open, and NTLM
// handshakes that ended, told by the response to a request carrying a
// Type 3 (401/407: rejected; anything else: accepted). It is a rough
// count for the operator; the report's outcomes are the analyzer's.
type liveCounter struct {
	h        reassembly.Handler
	open     map[*reassembly.Conn]map[reqKey]bool // requests with a Type 3, per open connection
	ok, fail int64
}

// reqKey names a request of a connection. Not its *Message: the
// reassembler reuses Messages after each call (see reassembly.Handler).
// Index counts a parser's messages; the frame tells the two parsers'
// apart in the odd capture where both read requests.
type reqKey struct {
	firstFrame int64
	index      int
}

func reqKeyOf(m *reassembly.Message) reqKey { return reqKey{m.FirstFrame, m.Index} }

func newLiveCounter(h reassembly.Handler) *liveCounter {
	return &liveCounter{h: h, open: map[*reassembly.Conn]map[reqKey]bool{}}
}

// ConnectionOpened implements reassembly.Handler.
func (l *liveCounter) ConnectionOpened(c *reassembly.Conn) {
	l.open[c] = map[reqKey]bool{}
	l.h.ConnectionOpened(c)
}

// Request implements reassembly.Handler.
func (l *liveCounter) Request(c *reassembly.Conn, req *reassembly.Message) {
	if pending := l.open[c]; pending != nil && carriesType3(req) {
		pending[reqKeyOf(req)] = true
	}
	l.h.Request(c, req)
}

// Response implements reassembly.Handler.
func (l *liveCounter) Response(c *reassembly.Conn, req, resp *reassembly.Message) {
	if pending := l.open[c]; pending != nil && req != nil && pending[reqKeyOf(req)] {
		delete(pending, reqKeyOf(req))
		if resp.Status == 401 || resp.Status == 407 {
			l.fail++
		} else {
			l.ok++
		}
	}
	l.h.Response(c, req, resp)
}

// ConnectionClosed implements reassembly.Handler.
func (l *liveCounter) ConnectionClosed(c *reassembly.Conn) {
	delete(l.open, c)
	l.h.ConnectionClosed(c)
}

// carriesType3 reports whether a request's credentials are an NTLM
// AUTHENTICATE message (raw, or inside SPNEGO).
func carriesType3(m *reassembly.Message) bool {
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		v := m.Get(name)
		if v == "" {
			continue
		}
		t := ntlm.ParseCredentialsHeader(v)
		if t.Err != nil || (t.Scheme != ntlm.SchemeNTLM && t.Scheme != ntlm.SchemeNegotiate) {
			continue
		}
		tok, _ := ntlm.DecodeToken(t.Scheme, t.Token)
		if tok != nil && tok.NTLM != nil && tok.NTLM.Type() == ntlm.TypeAuthenticate {
			return true
		}
	}
	return false
}

// statusEvery is how often the status line is redrawn.
const statusEvery = 250 * time.Millisecond

// liveStatus draws one status line on standard error, only when it is a
// terminal, prints the findings as they are detected above it (on any
// standard error), and flushes the capture file every second so that a
// capture killed without warning loses little. Everything runs in the
// capture's goroutine: between packets, and from the source's Idle
// callback.
type liveStatus struct {
	ios    *IOStreams
	stats  func() reassembly.SourceStats
	counts *liveCounter
	pw     *reassembly.PcapngWriter
	// findings, when set, gives the findings to print and their count.
	findings  *liveFindings
	start     time.Time
	drawn     time.Time
	flushed   time.Time
	lineShown bool
}

// newLiveStatus returns the status of a capture whose counts stats
// returns; pw is the capture file, or nil.
func newLiveStatus(ios *IOStreams, stats func() reassembly.SourceStats, counts *liveCounter, pw *reassembly.PcapngWriter) *liveStatus {
	now := time.Now()
	return &liveStatus{ios: ios, stats: stats, counts: counts, pw: pw, start: now, flushed: now}
}

// tick prints new findings, and redraws the line and flushes the file
// when they are due.
func (s *liveStatus) tick() {
	now := time.Now()
	if s.pw != nil && now.Sub(s.flushed) >= time.Second {
		s.flushed = now
		_ = s.pw.Flush() // a failing disk fails the next write, which stops the capture
	}
	if s.findings != nil {
		if lines := s.findings.poll(); len(lines) > 0 {
			s.println(lines)
			s.drawn = time.Time{} // back at once, below them
		}
	}
	if !s.ios.StderrTTY || now.Sub(s.drawn) < statusEvery {
		return
	}
	s.drawn = now
	fmt.Fprint(s.ios.ErrOut, eraseLine+s.line(now))
	s.lineShown = true
}

// line is the status text.
func (s *liveStatus) line(now time.Time) string {
	st := s.stats()
	drops := ""
	if st.KernelDrops > 0 {
		drops = fmt.Sprintf(", %d DROPPED by the kernel", st.KernelDrops)
	}
	line := fmt.Sprintf("%s  %d packets, %s%s | %d HTTP connections open | NTLM logins: %d accepted, %d rejected",
		now.Sub(s.start).Truncate(time.Second), st.Packets, byteCount(st.Bytes), drops,
		len(s.counts.open), s.counts.ok, s.counts.fail)
	if s.findings != nil {
		line += fmt.Sprintf(" | findings so far: %d", s.findings.count)
	}
	return line
}

// println prints lines above the status line: it erases the line, and
// the next tick draws it again.
func (s *liveStatus) println(lines []string) {
	s.clear()
	for _, l := range lines {
		fmt.Fprintln(s.ios.ErrOut, l)
	}
}

// clear erases the status line before the report is written.
func (s *liveStatus) clear() {
	if s.lineShown {
		fmt.Fprint(s.ios.ErrOut, eraseLine)
		s.lineShown = false
	}
}

// byteCount prints n bytes in SI units.
func byteCount(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1_000_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
