package analyzer

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/synth"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// Recorded handler events, replayed into fresh analyzers: for benchmarks
// that measure the analyzer alone, and for checking that the report does
// not depend on how the events of different connections interleave.

type eventKind uint8

const (
	evOpened eventKind = iota
	evRequest
	evResponse
	evClosed
)

// event is one reassembly.Handler call: the connection (the reassembler's
// pointer, which names it), the connection's state at the call, and clones
// of the messages (the reassembler reuses its own after the call). Messages
// are shared by every replay (the analyzer must not modify them, as the
// reassembler's contract says).
type event struct {
	kind      eventKind
	conn      *reassembly.Conn
	snap      reassembly.Conn
	req, resp *reassembly.Message
}

// recorder is a reassembly.Handler that records the calls.
type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) add(k eventKind, c *reassembly.Conn, req, resp *reassembly.Message) {
	if req != nil {
		req = req.Clone()
	}
	if resp != nil {
		resp = resp.Clone()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event{kind: k, conn: c, snap: *c, req: req, resp: resp})
}

func (r *recorder) ConnectionOpened(c *reassembly.Conn)               { r.add(evOpened, c, nil, nil) }
func (r *recorder) Request(c *reassembly.Conn, m *reassembly.Message) { r.add(evRequest, c, m, nil) }
func (r *recorder) Response(c *reassembly.Conn, req, resp *reassembly.Message) {
	r.add(evResponse, c, req, resp)
}
func (r *recorder) ConnectionClosed(c *reassembly.Conn) { r.add(evClosed, c, nil, nil) }

// replay feeds events to h as the reassembler would: one Conn per
// connection, updated to the recorded state before each call.
func replay(h reassembly.Handler, events []event) {
	conns := map[*reassembly.Conn]*reassembly.Conn{}
	for i := range events {
		ev := &events[i]
		c := conns[ev.conn]
		if c == nil {
			c = new(reassembly.Conn)
			conns[ev.conn] = c
		}
		*c = ev.snap
		switch ev.kind {
		case evOpened:
			h.ConnectionOpened(c)
		case evRequest:
			h.Request(c, ev.req)
		case evResponse:
			h.Response(c, ev.req, ev.resp)
		case evClosed:
			h.ConnectionClosed(c)
		}
	}
}

// interleave returns the events in another order that keeps each
// connection's own order: at each step the next event of a connection
// drawn at random (seeded), as workers that shard connections would
// deliver them.
func interleave(events []event, seed uint64) []event {
	var order []*reassembly.Conn
	per := map[*reassembly.Conn][]event{}
	for _, ev := range events {
		if _, ok := per[ev.conn]; !ok {
			order = append(order, ev.conn)
		}
		per[ev.conn] = append(per[ev.conn], ev)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]event, 0, len(events))
	for len(order) > 0 {
		i := rng.IntN(len(order))
		c := order[i]
		out = append(out, per[c][0])
		per[c] = per[c][1:]
		if len(per[c]) == 0 {
			order[i] = order[len(order)-1]
			order = order[:len(order)-1]
		}
	}
	return out
}

// recordScript plays a scripted capture into a recorder.
func recordScript(t *testing.T, play func(s *script)) ([]event, reassembly.SourceStats) {
	t.Helper()
	s := newScript(t)
	rec := &recorder{}
	s.h = rec
	play(s)
	for _, tc := range s.open {
		if !tc.closed {
			tc.endAs(reassembly.EndCapture)
		}
	}
	return rec.events, s.stats()
}

// syntheticEvents records the events of a synthetic capture of size bytes
// (internal/synth, default mix, seed 1), read through the reassembler.
func syntheticEvents(tb testing.TB, size int64) ([]event, reassembly.SourceStats) {
	tb.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Size = 1, size
	var buf bytes.Buffer
	if _, err := synth.Generate(&buf, cfg); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "synth.pcapng")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	src, err := reassembly.OpenFiles([]string{path}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	rec := &recorder{}
	if _, err := reassembly.Run(src, rec, reassembly.Options{}); err != nil {
		tb.Fatal(err)
	}
	return rec.events, src.Stats()
}
