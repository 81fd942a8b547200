package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// Geometry of a ladder diagram (SVG user units).
const (
	ldWidth    = 1000
	ldAxisX    = 88  // the time axis; times are right-aligned left of it
	ldClientX  = 175 // client lane
	ldServerX  = 700 // server lane
	ldTop      = 52  // first arrow
	ldRowH     = 30
	ldGapH     = 16 // extra room for a break in time
	ldHeadH    = 18 // room for a handshake's label above its first row
	ldLabelMax = 72 // characters of an arrow label
	// ldGap is the pause between two messages that gets a drawn break.
	ldGap = time.Second
	// ldMax caps the diagrams of one report; ldOpen is how many are shown
	// unfolded when none stands out.
	ldMax  = 100
	ldOpen = 10
)

// step is one arrow of a ladder: a request (client to server) or a
// response (server to client).
type step struct {
	Request bool
	Label   string
	Title   string
	Time    time.Time
	Frame   int64
	// File names the capture Frame is numbered in when it is not the
	// connection's own (a connection that spans files); Part is where
	// that file is among the connection's (partOf), for the order.
	File      string
	Part      int
	Handshake int // index into the connection's Handshakes, -1 if none
}

// in places the step's frame in file (Exchange.RequestFile and the like;
// nil: c's own file) among c's files, named by labels.
func (s *step) in(labels []string, c *analyzer.Connection, file *int) {
	if file != nil {
		s.File, s.Part = frameFile(labels, c, file), partOf(c, *file)
	}
}

// ladder is the sequence diagram of one connection.
type ladder struct {
	ID, Stream              int
	File                    string // the capture Stream is numbered in, when the report read several
	Parts                   string // the later files the connection went on into (partsNote)
	Client, Server, Users   string
	Outcomes, Note          string
	Failed, Open            bool
	Width, Height, LaneEnd  int
	AxisX, ClientX, ServerX int
	Rows                    []ladderRow
	Bands                   []band
	Gaps                    []gapLine
	// End says how the connection ended, written under the lanes at
	// (MidX, EndY).
	End        string
	EndY, MidX int
}

type ladderRow struct {
	Y, TextY, X1, X2, LabelX, TimeX int
	FrameX, FrameY                  int
	FrameAnchor                     string
	Label, Title, Time, Frame       string
	Class                           string // plain, ok, failed, restart
}

// band shades the rows of one handshake.
type band struct {
	X, Y, W, H, LabelX, LabelY int
	Class, Label               string
}

// gapLine marks a pause in time between two rows.
type gapLine struct {
	X1, X2, Y, TextY int
	Label            string
}

// ladders draws a diagram for each connection that carried NTLM (or
// Negotiate or Kerberos), up to ldMax: connections with findings first
// when there are more, then in id order.
//
// It reads the connections once. It keeps copies of the first ldMax
// candidates with findings and the first ldMax without (all it may draw)
// and, to shade the handshakes, a few fields of every handshake.
func ladders(r *model) ([]ladder, int) {
	type candidate struct {
		seq int // position among the candidates, in report order
		c   analyzer.Connection
	}
	var withFindings, others []candidate
	total := 0
	var sc shadeCollector
	for c := range r.EachConnection() {
		sc.add(c)
		if len(c.Handshakes) == 0 && !hasExchanges(c) {
			continue
		}
		switch {
		case len(c.Findings) > 0 && len(withFindings) < ldMax:
			withFindings = append(withFindings, candidate{total, *c})
		case len(c.Findings) == 0 && len(others) < ldMax:
			others = append(others, candidate{total, *c})
		}
		total++
	}
	// Those with findings first, then the others: the first ldMax of them
	// are drawn, in report order (in id order when some were left out).
	picked := append(withFindings, others[:min(len(others), ldMax-len(withFindings))]...)
	omitted := total - len(picked)
	if omitted > 0 {
		slices.SortFunc(picked, func(a, b candidate) int { return cmp.Compare(a.c.ID, b.c.ID) })
	} else {
		slices.SortFunc(picked, func(a, b candidate) int { return cmp.Compare(a.seq, b.seq) })
	}
	shades := sc.shades()
	out := make([]ladder, 0, len(picked))
	for _, p := range picked {
		l := newLadder(p.c, shades, r.labels)
		l.File, l.Parts = connFile(r.labels, &p.c), partsNote(r.labels, &p.c)
		l.Open = len(picked) <= ldOpen || l.Failed || len(p.c.Findings) > 0
		out = append(out, l)
	}
	return out, omitted
}

func newLadder(c analyzer.Connection, shades map[int]shade, labels []string) ladder {
	l := ladder{ID: c.ID, Stream: c.TCPStream, Client: c.Client, Server: c.Server, Users: strings.Join(c.Users, " "),
		Width: ldWidth, AxisX: ldAxisX, ClientX: ldClientX, ServerX: ldServerX}
	steps, note := connectionSteps(c, labels)
	l.Note = note
	var outcomes []string
	for _, h := range c.Handshakes {
		outcomes = append(outcomes, h.Outcome)
		l.Failed = l.Failed || isFailure(h.Outcome)
	}
	l.Outcomes = outcomeText(outcomes)
	y := ldTop
	var start, prev time.Time
	first := map[int]int{} // handshake index → first and last row y
	last := map[int]int{}
	for i, s := range steps {
		if start.IsZero() {
			start = s.Time
		}
		if i > 0 && !prev.IsZero() && s.Time.Sub(prev) >= ldGap {
			l.Gaps = append(l.Gaps, gapLine{X1: ldAxisX, X2: ldWidth - 8, Y: y - ldRowH/2 - 3, TextY: y - ldRowH/2 - 6,
				Label: durationText(s.Time.Sub(prev)) + " later"})
			y += ldGapH
		}
		prev = s.Time
		opens := false
		if s.Handshake >= 0 && s.Handshake < len(c.Handshakes) {
			_, seen := first[s.Handshake]
			opens = !seen
		}
		if opens {
			y += ldHeadH
		}
		row := ladderRow{Y: y, TextY: y - 6, LabelX: (ldClientX + ldServerX) / 2, TimeX: ldAxisX - 6,
			Label: clip(s.Label, ldLabelMax), Title: s.Title, Class: "plain", FrameY: y + 4}
		if !s.Time.IsZero() && !start.IsZero() {
			row.Time = "+" + durationText(s.Time.Sub(start))
		}
		if s.Request {
			row.X1, row.X2 = ldClientX+2, ldServerX-3
		} else {
			row.X1, row.X2 = ldServerX-2, ldClientX+3
		}
		row.FrameX, row.FrameAnchor = ldServerX+10, "start"
		if s.Frame > 0 {
			row.Frame = fmt.Sprintf("frame %d%s", s.Frame, fileNote(s.File))
		}
		if s.Handshake >= 0 && s.Handshake < len(c.Handshakes) {
			row.Class = shades[c.Handshakes[s.Handshake].ID].Class
			if _, ok := first[s.Handshake]; !ok {
				first[s.Handshake] = y
			}
			last[s.Handshake] = y
		}
		l.Rows = append(l.Rows, row)
		y += ldRowH
	}
	for i, h := range c.Handshakes {
		top, ok := first[i]
		if !ok {
			continue
		}
		sh := shades[h.ID]
		b := band{X: ldAxisX + 6, Y: top - 24 - ldHeadH + 4, W: ldWidth - ldAxisX - 12, H: last[i] - top + 34 + ldHeadH - 4,
			LabelX: ldClientX + 8, LabelY: top - 24 - ldHeadH + 17, Class: sh.Class, Label: bandLabel(h, sh)}
		l.Bands = append(l.Bands, b)
	}
	l.LaneEnd = y - ldRowH + 14
	if c.Ended != "" {
		l.End = "connection ended: " + c.Ended
		if !c.End.IsZero() && !start.IsZero() {
			l.End += " at +" + durationText(c.End.Sub(start))
		}
		l.EndY, l.MidX = l.LaneEnd+14, (ldClientX+ldServerX)/2
	}
	l.Height = max(l.LaneEnd+22, ldTop+10)
	return l
}

// connectionSteps returns the arrows of a connection: from its exchanges
// when the analyzer recorded them, else from the steps of its handshakes
// (only those wholly on this connection: a split handshake's steps cannot
// be placed without the exchanges). labels names the capture files.
func connectionSteps(c analyzer.Connection, labels []string) ([]step, string) {
	if steps, note := exchangeSteps(c, labels); len(steps) > 0 {
		return steps, note
	}
	var steps []step
	var split []string
	for i, h := range c.Handshakes {
		if len(h.Connections) > 1 {
			split = append(split, fmt.Sprintf("handshake %d (connections %s)", h.ID, intList(h.Connections)))
			continue
		}
		scheme := h.Scheme
		add := func(req bool, label string, at time.Time, frame int64, file *int) {
			if frame > 0 {
				s := step{Request: req, Label: label, Title: label, Time: at, Frame: frame, Handshake: i}
				s.in(labels, &c, file)
				steps = append(steps, s)
			}
		}
		var files [4]*int
		if ff := h.FrameFiles; ff != nil {
			files = [4]*int{&ff.Type1, &ff.Type2, &ff.Type3, &ff.Final}
		}
		add(true, scheme+" type1", h.Times.Type1, h.Frames.Type1, files[0])
		add(false, "401 · "+scheme+" type2", h.Times.Type2, h.Frames.Type2, files[1])
		add(true, scheme+" type3", h.Times.Type3, h.Frames.Type3, files[2])
		add(false, statusLabel(h.Status), h.Times.Final, h.Frames.Final, files[3])
	}
	slices.SortStableFunc(steps, func(a, b step) int { return cmp.Or(cmp.Compare(a.Part, b.Part), cmp.Compare(a.Frame, b.Frame)) })
	note := ""
	if len(split) > 0 {
		note = "Split across connections, drawn only with the exchanges: " + strings.Join(split, ", ") + "."
	}
	return steps, note
}

func statusLabel(status int) string {
	if status == 0 {
		return "no response captured"
	}
	return itoa(status)
}

// shade is how a handshake is drawn: Class failed (failed or
// abandoned), restart (a retry after the same client's failed handshake
// that did not fail itself), ok (succeeded) or plain (incomplete);
// Restart marks any retry after a failure.
type shade struct {
	Class   string
	Restart bool
}

// shadeCollector gathers, connection by connection, what shades
// needs of every handshake: the fields that order and classify the
// logical handshakes (see logicalHandshakes), and the outcome of the first
// copy of each handshake seen only on upstream legs.
type shadeCollector struct {
	logical []shadeInput
	seen    map[int]bool
	// upstream holds the outcome of the first copy of each handshake
	// outside the logical ones.
	upstream map[int]string
}

type shadeInput struct {
	id              int
	client, outcome string
	first           time.Time
}

func (s *shadeCollector) add(c *analyzer.Connection) {
	if s.seen == nil {
		s.seen, s.upstream = map[int]bool{}, map[int]string{}
	}
	for _, h := range c.Handshakes {
		if c.Leg == analyzer.LegUpstream || h.Upstream {
			if _, ok := s.upstream[h.ID]; !ok {
				s.upstream[h.ID] = h.Outcome
			}
			continue
		}
		if !s.seen[h.ID] {
			s.seen[h.ID] = true
			s.logical = append(s.logical, shadeInput{h.ID, h.Client, h.Outcome, firstTime(h.Times)})
		}
	}
}

// shades classifies every handshake of the report, by id.
func (s *shadeCollector) shades() map[int]shade {
	shades := map[int]shade{}
	hs := s.logical
	slices.SortStableFunc(hs, func(a, b shadeInput) int { return a.first.Compare(b.first) })
	lastFailed := map[string]bool{}
	for _, h := range hs {
		failed := isFailure(h.outcome)
		sh := shade{Class: outcomeClass(h.outcome), Restart: lastFailed[h.client]}
		if sh.Restart && !failed {
			sh.Class = "restart"
		}
		shades[h.id] = sh
		lastFailed[h.client] = failed
	}
	for id, outcome := range s.upstream { // upstream copies keep their outcome
		if _, ok := shades[id]; !ok {
			shades[id] = shade{Class: outcomeClass(outcome)}
		}
	}
	return shades
}

func isFailure(outcome string) bool {
	return outcome == analyzer.OutcomeFailed || outcome == analyzer.OutcomeAbandoned
}

func outcomeClass(outcome string) string {
	switch {
	case isFailure(outcome):
		return "failed"
	case outcome == analyzer.OutcomeSucceeded:
		return "ok"
	}
	return "plain"
}

// bandLabel names a handshake on its band: "CORP\alice · handshake 3:
// failed (balancer), restart".
func bandLabel(h analyzer.Handshake, sh shade) string {
	s := fmt.Sprintf("handshake %d: %s", h.ID, h.Outcome)
	if h.Cause != "" {
		s += " (" + h.Cause + ")"
	}
	if sh.Restart {
		s += ", restart"
	}
	if h.User != "" {
		s = clip(h.User, 24) + " · " + s
	}
	return s
}

// outcomeText counts outcomes: "1 failed, 1 succeeded".
func outcomeText(outcomes []string) string {
	n := map[string]int{}
	for _, o := range outcomes {
		n[o]++
	}
	var parts []string
	for _, o := range []string{analyzer.OutcomeFailed, analyzer.OutcomeAbandoned, analyzer.OutcomeSucceeded, analyzer.OutcomeIncomplete} {
		if n[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[o], o))
		}
	}
	return strings.Join(parts, ", ")
}
