package analyzer

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// TestEveryCodeAndVerdictCovered plays every scenario and checks that each
// finding code, verdict and outcome appears at least once.
func TestEveryCodeAndVerdictCovered(t *testing.T) {
	seen := map[string]bool{}
	var all []outcomeCase
	all = append(all, outcomeCases()...)
	all = append(all, correlationCases()...)
	all = append(all, legCases()...)
	all = append(all, regressionCases()...)
	for _, tc := range all {
		s := newScript(t)
		tc.play(s)
		r := s.finish()
		seen["verdict:"+r.Verdict.Code] = true
		for _, f := range r.Findings {
			seen[f.Code] = true
		}
		for _, c := range r.Connections {
			for _, h := range c.Handshakes {
				seen["outcome:"+h.Outcome] = true
				if h.Cause != "" {
					seen["cause:"+h.Cause] = true
				}
			}
		}
	}
	for code := range Codes {
		if !seen[code] {
			t.Errorf("no scenario produces %s", code)
		}
	}
	for v := range VerdictTitles {
		if !seen["verdict:"+v] {
			t.Errorf("no scenario ends in verdict %s", v)
		}
	}
	for _, o := range []string{OutcomeSucceeded, OutcomeFailed, OutcomeAbandoned, OutcomeIncomplete} {
		if !seen["outcome:"+o] {
			t.Errorf("no scenario has outcome %s", o)
		}
	}
	for _, c := range []string{CauseBalancer, CauseClient, CauseCredentials, CauseUnknown} {
		if !seen["cause:"+c] {
			t.Errorf("no scenario has cause %s", c)
		}
	}
}

// TestConcurrentHandlers feeds connections from several goroutines, as
// several reassembly workers would (run with -race).
func TestConcurrentHandlers(t *testing.T) {
	a := New(Options{HashKey: testKey})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				c := &reassembly.Conn{ID: w*100 + i, Stream: w*100 + i, SawSYN: true,
					Client: netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:5000", w, i)),
					Server: netip.MustParseAddrPort("10.0.0.1:80")}
				a.ConnectionOpened(c)
				req := &reassembly.Message{Request: true, Method: "GET", Target: "/", Proto: "HTTP/1.1", Frame: 1, Time: t0}
				a.Request(c, req)
				a.Response(c, req, &reassembly.Message{Status: 200, Proto: "HTTP/1.1", Frame: 2, Time: t0, FirstTime: t0})
				c.Ended = reassembly.EndFIN
				a.ConnectionClosed(c)
			}
		}(w)
	}
	wg.Wait()
	r := a.Finish(reassembly.SourceStats{})
	if r.Summary.Connections != 160 || r.Summary.HTTPRequests != 160 || r.Summary.HTTPResponses != 160 {
		t.Errorf("summary = %+v", r.Summary)
	}
}
