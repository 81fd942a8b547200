package analyzer

import (
	"math"
	"slices"
	"testing"
	"unsafe"
)

// TestRetainedSizes guards what the analyzer keeps per connection and
// handshake of a closed connection (issue 8: memory per connection kept
// small; see connState, connExtra, handshake), and what an open connection
// records per exchange. Raise a limit only with a reason: it multiplies by
// every connection of a multi-gigabyte capture. (The limits are size
// classes of the allocator: one byte more costs the next class.)
func TestRetainedSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		size, max uintptr
	}{
		{"connState", unsafe.Sizeof(connState{}), 160},
		{"connExtra", unsafe.Sizeof(connExtra{}), 64},
		{"handshake", unsafe.Sizeof(handshake{}), 288},
		{"exchRec", unsafe.Sizeof(exchRec{}), 88},
		{"exchChunk", unsafe.Sizeof(exchChunk{}), 704},
		{"connState slab", unsafe.Sizeof([connSlabLen]connState{}), 10240},
		{"handshake slab", unsafe.Sizeof([handshakeSlabLen]handshake{}), 18432},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes, more than %d", c.name, c.size, c.max)
		}
	}
}

// TestEncodedSizes guards the bytes a closed connection keeps per request
// and per exchange record (compact.go), on the synthetic capture.
func TestEncodedSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("synthetic capture")
	}
	events, _ := syntheticEvents(t, 4_000_000)
	a := New(Options{HashKey: testKey})
	replay(a, events)
	var reqBytes, reqs, exBytes, exs int
	for _, cs := range a.all {
		if !cs.closed {
			continue
		}
		reqBytes += len(cs.reqs)
		reqs += int(cs.requests)
		exBytes += len(cs.ext().exchanges)
		exs += int(cs.ext().exchangeCount)
	}
	if reqs == 0 || exs == 0 {
		t.Fatalf("%d requests, %d exchanges", reqs, exs)
	}
	perReq, perEx := float64(reqBytes)/float64(reqs), float64(exBytes)/float64(exs)
	t.Logf("%.1f bytes per request (%d), %.1f per exchange (%d)", perReq, reqs, perEx, exs)
	if perReq > 10 || perEx > 12 {
		t.Errorf("%.1f bytes per request, %.1f per exchange; want at most 10 and 12", perReq, perEx)
	}
}

// TestCompactRoundTrip checks that requests and exchange records decode as
// they were encoded, whatever their values: times that go back, the zero
// time, the extremes of frames and times.
func TestCompactRoundTrip(t *testing.T) {
	in := newInterner()
	ic := &internCache{in: in}
	hs := []*handshake{{}, {}, {}}
	times := []nanotime{noTime, 0, 1_700_000_000_123_456_789, 1_700_000_000_000_000_000, math.MaxInt64, -5}
	frames := []int64{1, 0, 1 << 40, 7, math.MaxInt64, -1}
	var reqs []reqRec
	var exs []exchRec
	for i := range 40 {
		r := reqRec{line: uint64(i%5) * 0x9e3779b97f4a7c15, at: times[i%len(times)], frame: frames[(i/2)%len(frames)]}
		if i%3 == 0 {
			r.line |= reqAuthBit
		}
		reqs = append(reqs, r)
		e := exchRec{
			reqFrame: r.frame, reqTime: r.at, line: lineID(i * 1000), status: int16(100 + i*20),
			reqAuth: authLabelID(i % len(authLabels)), respAuth: authLabelID((i + 3) % len(authLabels)),
			proxy: i%2 == 0, withAuth: true,
		}
		if i%4 != 0 {
			e.answered = true
			e.respFrame, e.respTime = frames[i%len(frames)], times[(i+1)%len(times)]
		}
		if i%5 != 0 {
			e.hs = hs[i%len(hs)]
		}
		exs = append(exs, e)
	}
	cs := &connState{hs: hs, x: &connExtra{}}
	var b []byte
	var prev reqRec
	for _, r := range reqs {
		b = appendReq(b, ic, r, prev)
		prev = r
	}
	cs.reqs = string(b)
	var scratch []byte
	cs.x.exchanges = encodeExchanges(len(exs), func(i int) *exchRec { return &exs[i] }, hs, &scratch)
	if got := slices.Collect(eachReq(cs.reqs, in.hashes)); !slices.Equal(got, reqs) {
		t.Errorf("requests:\n got %v\nwant %v", got, reqs)
	}
	if got := slices.Collect(cs.eachExchange(in.hashes)); !slices.Equal(got, exs) {
		t.Errorf("exchanges:\n got %+v\nwant %+v", got, exs)
	}
}
