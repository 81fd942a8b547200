package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// Geometry of the timeline (SVG user units).
const (
	tlWidth     = 1180
	tlLabelW    = 230 // room for "#12 CORP\alice" on the left
	tlRight     = 16
	tlTop       = 22
	tlRowH      = 18
	tlMaxRows   = 400 // beyond this the timeline stops being readable
	tlTickCount = 6
)

// timeline is the SVG of every connection over the capture's time range:
// one row per connection (a bar from its start to its end, coloured by its
// authentication state) with a dot per handshake (coloured by outcome), so
// a reader sees which user failed when, and which connection to open.
type timeline struct {
	Width, Height int
	Ticks         []tick
	Rows          []tlRow
	Omitted       int
}

type tick struct {
	X             int
	Label, Anchor string
}

type tlRow struct {
	ID           int
	Label, Title string
	State        string
	TextY, Y     int
	X, W         int
	Marks        []tlMark
}

type tlMark struct {
	X, Y    int
	Outcome string
	Title   string
}

// tlConn is what the timeline keeps of a connection it draws.
type tlConn struct {
	id           int
	state        string
	start, end   time.Time
	label, title string
	marks        []tlHandshake
}

type tlHandshake struct {
	at             time.Time
	outcome, title string
}

// newTLConn returns c's row; filter is its Wireshark filter (connFilter).
func newTLConn(c *analyzer.Connection, filter string) tlConn {
	t := tlConn{id: c.ID, state: c.State, start: c.Start, end: c.End,
		label: clip(fmt.Sprintf("#%d %s", c.ID, strings.Join(c.Users, " ")), 34),
		title: fmt.Sprintf("connection %d (%s) %s → %s, %s, %s to %s", c.ID, filter,
			c.Client, c.Server, c.State, timeText(c.Start), timeText(c.End))}
	for _, h := range c.Handshakes {
		at := firstTime(h.Times)
		t.marks = append(t.marks, tlHandshake{at: at, outcome: h.Outcome,
			title: fmt.Sprintf("handshake %d %s %s at %s", h.ID, h.User, h.Outcome, timeText(at))})
	}
	return t
}

// newTimeline lays out the connections, or returns nil when there are none.
// When there are more than fit, connections that carried handshakes come
// first. It reads the connections once and keeps only those it draws.
func newTimeline(r *model) *timeline {
	n := r.ConnectionCount()
	if n == 0 {
		return nil
	}
	t := &timeline{Width: tlWidth}
	var conns []tlConn
	if n <= tlMaxRows {
		for c := range r.eachConnectionBrief() {
			conns = append(conns, newTLConn(c, connFilter(r.labels, c)))
		}
	} else {
		var withNTLM, rest []tlConn
		for c := range r.eachConnectionBrief() {
			switch {
			case len(c.Handshakes) > 0 && len(withNTLM) < tlMaxRows:
				withNTLM = append(withNTLM, newTLConn(c, connFilter(r.labels, c)))
			case len(c.Handshakes) == 0 && len(rest) < tlMaxRows:
				rest = append(rest, newTLConn(c, connFilter(r.labels, c)))
			}
		}
		conns = append(withNTLM, rest...)[:tlMaxRows]
		t.Omitted = n - tlMaxRows
	}
	from, to := r.Source.FirstSeen, r.Source.LastSeen
	for _, c := range conns { // a hand-built or merged model may lack Source times
		if from.IsZero() || (!c.start.IsZero() && c.start.Before(from)) {
			from = c.start
		}
		if c.end.After(to) {
			to = c.end
		}
	}
	span := to.Sub(from)
	plot := tlWidth - tlLabelW - tlRight
	x := func(at time.Time) int {
		if at.IsZero() || span <= 0 {
			return tlLabelW
		}
		return tlLabelW + int(float64(plot)*float64(at.Sub(from))/float64(span))
	}
	for i := range tlTickCount {
		at := from.Add(time.Duration(float64(span) * float64(i) / float64(tlTickCount-1)))
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case tlTickCount - 1:
			anchor = "end"
		}
		t.Ticks = append(t.Ticks, tick{X: x(at), Label: tickLabel(at, span), Anchor: anchor})
		if span <= 0 {
			break
		}
	}
	for i, c := range conns {
		y := tlTop + i*tlRowH
		end := c.end
		if end.IsZero() {
			end = to
		}
		row := tlRow{ID: c.id, State: c.state, TextY: y + 10, Y: y + 1, X: x(c.start), Label: c.label, Title: c.title}
		row.W = max(3, x(end)-row.X)
		for _, h := range c.marks {
			row.Marks = append(row.Marks, tlMark{X: x(h.at), Y: y + 6, Outcome: h.outcome, Title: h.title})
		}
		t.Rows = append(t.Rows, row)
	}
	t.Height = tlTop + len(conns)*tlRowH + 4
	return t
}

// tickLabel writes a tick's time: the time of day, with milliseconds when
// the capture is short.
func tickLabel(at time.Time, span time.Duration) string {
	at = at.UTC()
	switch {
	case span < 10*time.Second:
		return at.Format("15:04:05.000")
	case span < 24*time.Hour:
		return at.Format("15:04:05")
	}
	return at.Format("01-02 15:04")
}

// firstTime is the earliest captured step of a handshake.
func firstTime(t analyzer.HandshakeTimes) time.Time {
	for _, at := range []time.Time{t.Type1, t.Type2, t.Type3, t.Final} {
		if !at.IsZero() {
			return at
		}
	}
	return time.Time{}
}
