package analyzer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// finding is a finding under construction.
type finding struct {
	code   string
	conns  []*connState
	frames []frameRef
	time   time.Time
	msg    string
	users  []string
	count  int
}

// frameRef is a frame and the capture it is numbered in (frames are per
// file).
type frameRef struct {
	frame int64
	file  int32
}

// frameOn returns frame, one of cs's.
func frameOn(cs *connState, frame int64) frameRef { return frameRef{frame, cs.file} }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// findingList is a list of findings in the order they were found: the
// order the report keeps among findings that sort equal (sortFindings).
type findingList []*finding

// add appends f, its connections sorted without repeats. It does not
// mark the connections (see markFindings), so that steps on other
// goroutines can collect findings in lists of their own.
func (l *findingList) add(f *finding) {
	if f.count == 0 {
		f.count = 1
	}
	f.conns = dedupeConns(f.conns)
	*l = append(*l, f)
}

// add records a finding. It must be called within run, before
// markFindings and sortFindings: a finding added later would mark no
// connection and sit out of order.
func (d *diagnosis) add(f *finding) { d.findings.add(f) }

// markFindings marks every connection with the codes of its findings, once
// all are in. It runs on one goroutine: divided among goroutines by
// connection, each read every finding, and it measured no faster (some
// 10 ms for the 55,000 findings of a 2 GB capture).
func (d *diagnosis) markFindings() {
	for _, f := range d.findings {
		for _, cs := range f.conns {
			r := cs.rareRW()
			if i, found := slices.BinarySearch(r.findings, f.code); !found {
				r.findings = slices.Insert(r.findings, i, f.code)
			}
		}
	}
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
		f.frames = h.appendFrameRefs(f.frames)
		if h.hasUser && len(users.names) < MaxEvidence {
			users.add(h.userName())
		}
	}
	f.users = users.names
	f.count = len(hs)
	return f
}

// collectFindings derives the per-handshake and aggregated findings. The
// kinds are independent of one another and only read the diagnosis: each
// (the restarts in parts) builds its own list on a goroutine of its own,
// and the lists are added in a fixed order.
func (d *diagnosis) collectFindings() {
	kinds := []func(*findingList){d.handshakeFindings, d.connectionFindings, d.authFailedFindings,
		d.postureFindings, d.perRequestFindings}
	restarts := divide(len(d.restarts), 2048)
	lists := make([]findingList, restarts.parts+len(kinds))
	var wg sync.WaitGroup
	for i, kind := range kinds {
		wg.Go(func() { kind(&lists[restarts.parts+i]) })
	}
	restarts.each(func(k, lo, hi int) { restartFindings(&lists[k], d.restarts[lo:hi], d.labels) })
	wg.Wait()
	for _, l := range lists {
		d.findings = append(d.findings, l...)
	}
}

// joinSorted joins a copy of list, sorted.
func joinSorted(list []string) string {
	s := slices.Clone(list)
	slices.Sort(s)
	return strings.Join(s, ", ")
}
