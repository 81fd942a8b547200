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

// newTimeline lays out the connections, or returns nil when there are none.
// When there are more than fit, connections that carried handshakes come
// first.
func newTimeline(r *analyzer.Report) *timeline {
	if len(r.Connections) == 0 {
		return nil
	}
	conns := r.Connections
	t := &timeline{Width: tlWidth}
	if len(conns) > tlMaxRows {
		var withNTLM, rest []analyzer.Connection
		for _, c := range conns {
			if len(c.Handshakes) > 0 {
				withNTLM = append(withNTLM, c)
			} else {
				rest = append(rest, c)
			}
		}
		conns = append(withNTLM, rest...)[:tlMaxRows]
		t.Omitted = len(r.Connections) - tlMaxRows
	}
	from, to := r.Source.FirstSeen, r.Source.LastSeen
	for _, c := range conns { // a hand-built or merged model may lack Source times
		if from.IsZero() || (!c.Start.IsZero() && c.Start.Before(from)) {
			from = c.Start
		}
		if c.End.After(to) {
			to = c.End
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
		end := c.End
		if end.IsZero() {
			end = to
		}
		row := tlRow{ID: c.ID, State: c.State, TextY: y + 10, Y: y + 1, X: x(c.Start)}
		row.W = max(3, x(end)-row.X)
		row.Label = clip(fmt.Sprintf("#%d %s", c.ID, strings.Join(c.Users, " ")), 34)
		row.Title = fmt.Sprintf("connection %d (tcp.stream eq %d) %s → %s, %s, %s to %s", c.ID, c.TCPStream,
			c.Client, c.Server, c.State, timeText(c.Start), timeText(c.End))
		for _, h := range c.Handshakes {
			at := firstTime(h.Times)
			row.Marks = append(row.Marks, tlMark{X: x(at), Y: y + 6, Outcome: h.Outcome,
				Title: fmt.Sprintf("handshake %d %s %s at %s", h.ID, h.User, h.Outcome, timeText(at))})
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
