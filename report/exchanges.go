package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// exchanges scrubs the request targets of c's exchanges in place (c is a
// copy whose exchanges are its own).
func (s *scrubber) exchanges(c *analyzer.Connection) {
	for i := range c.Exchanges {
		c.Exchanges[i].Target = s.target(c.Exchanges[i].Method, c.Exchanges[i].Target)
	}
}

// dropExchanges removes the exchanges from a copy of a connection (NDJSON
// connection records leave them out: they serve the diagrams).
func dropExchanges(c *analyzer.Connection) {
	c.Exchanges, c.ExchangesOmitted = nil, 0
}

// copyExchanges gives c its own copy of its exchanges.
func copyExchanges(c *analyzer.Connection) {
	c.Exchanges = slices.Clone(c.Exchanges)
}

func hasExchanges(c *analyzer.Connection) bool { return len(c.Exchanges) > 0 }

// targetMax caps the request-target in an arrow label; the tooltip has it
// whole.
const targetMax = 40

// exchangeSteps turns a connection's exchanges into arrows, in capture
// order: each request, then its response when one was captured. labels
// names the capture files, for a connection that spans several.
func exchangeSteps(c analyzer.Connection, labels []string) ([]step, string) {
	var steps []step
	for _, e := range c.Exchanges {
		auth := e.RequestAuth
		if auth != "" && e.Proxy {
			auth += " (proxy)"
		}
		label := joinDot(e.Method+" "+clip(e.Target, targetMax), auth)
		req := step{Request: true, Label: label, Time: e.RequestTime, Frame: e.RequestFrame, Handshake: e.Handshake}
		req.in(labels, &c, e.RequestFile)
		req.Title = fmt.Sprintf("%s %s — frame %d%s at %s", e.Method, joinDot(e.Target, auth), e.RequestFrame,
			fileNote(req.File), timeText(e.RequestTime))
		steps = append(steps, req)
		if e.Status == 0 {
			continue
		}
		label = joinDot(itoa(e.Status), e.ResponseAuth)
		resp := step{Label: label, Time: e.ResponseTime, Frame: e.ResponseFrame, Handshake: e.Handshake}
		resp.in(labels, &c, e.ResponseFile)
		resp.Title = fmt.Sprintf("%s — frame %d%s at %s", label, e.ResponseFrame, fileNote(resp.File), timeText(e.ResponseTime))
		steps = append(steps, resp)
	}
	// Pipelined requests can precede the response to an earlier one:
	// draw in capture order (frames grow with time within a file, and a
	// connection's files follow each other).
	slices.SortStableFunc(steps, func(a, b step) int {
		if a.Frame > 0 && b.Frame > 0 {
			return cmp.Or(cmp.Compare(a.Part, b.Part), cmp.Compare(a.Frame, b.Frame))
		}
		return a.Time.Compare(b.Time)
	})
	note := ""
	if c.ExchangesOmitted > 0 {
		note = fmt.Sprintf("The first %d exchanges are drawn; %d more are not.", len(c.Exchanges), c.ExchangesOmitted)
	}
	return steps, note
}

// joinDot joins label parts with " · ", skipping empty ones.
func joinDot(a, b string) string {
	if b == "" {
		return a
	}
	return a + " · " + b
}
