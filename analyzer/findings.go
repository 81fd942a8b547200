package analyzer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// finding is a finding under construction.
type finding struct {
	code   string
	conns  []*connState
	frames []int64
	time   time.Time
	msg    string
	users  []string
	count  int
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// add records a finding and marks its connections.
func (d *diagnosis) add(f *finding) {
	if f.count == 0 {
		f.count = 1
	}
	f.conns = dedupeConns(f.conns)
	for _, cs := range f.conns {
		r := cs.rareRW()
		if r.findings == nil {
			r.findings = map[string]bool{}
		}
		r.findings[f.code] = true
	}
	d.findings = append(d.findings, f)
}

// dedupeConns sorts connections by id without repeats.
func dedupeConns(cs []*connState) []*connState {
	if len(cs) == 2 { // most findings: a handshake's two connections, or one twice
		a, b := cs[0], cs[1]
		switch {
		case a == b:
			return []*connState{a}
		case b.id < a.id:
			a, b = b, a
		}
		return []*connState{a, b}
	}
	out := slices.Clone(cs)
	slices.SortFunc(out, func(a, b *connState) int { return cmp.Compare(a.id, b.id) })
	return slices.CompactFunc(out, func(a, b *connState) bool { return a == b })
}

// hsFinding builds a finding about handshakes.
func hsFinding(code string, hs ...*handshake) *finding {
	f := &finding{code: code}
	var users nameSet
	for _, h := range hs {
		if f.time.IsZero() || h.start().Before(f.time) {
			f.time = h.start()
		}
		f.conns = append(f.conns, h.conns()...)
		f.frames = append(f.frames, h.frames()...)
		if h.hasUser && len(users.names) < MaxEvidence {
			users.add(h.userName())
		}
	}
	f.users = users.names
	f.count = len(hs)
	return f
}

// collectFindings derives the per-handshake and aggregated findings.
func (d *diagnosis) collectFindings() {
	d.restartFindings()
	d.handshakeFindings()
	d.connectionFindings()
	d.authFailedFindings()
	d.postureFindings()
	d.perRequestFindings()
}

// joinSorted joins a copy of list, sorted.
func joinSorted(list []string) string {
	s := slices.Clone(list)
	slices.Sort(s)
	return strings.Join(s, ", ")
}
