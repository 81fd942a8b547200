package reassembly

import (
	"bytes"
	"math"
	"net/netip"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// batchRoundTrip passes p through a batch and returns the packet the
// worker rebuilds from it, and whether it travelled as a plain record.
func batchRoundTrip(t *testing.T, b *packetBatch, p *Packet) (*Packet, bool) {
	t.Helper()
	b.reset()
	if b.full(len(p.TCP.Contents) + len(p.TCP.Payload)) {
		t.Fatal("an empty batch is full")
	}
	b.add(p)
	if len(b.recs) != 1 {
		t.Fatalf("%d records for one packet", len(b.recs))
	}
	switch r := &b.recs[0]; r.kind {
	case recPacket:
		var q Packet
		b.packet(r, &q)
		return &q, true
	case recOdd:
		return &b.odd[r.off], false
	default:
		t.Fatalf("record kind %d for a packet", r.kind)
		return nil, false
	}
}

// TestBatchRecordRoundTrip: every packet a capture decodes to, IPv4 and
// IPv6, comes out of a batch record as it went in, its TCP layer included
// (the assembler reads the ports from its unexported fields).
func TestBatchRecordRoundTrip(t *testing.T) {
	for _, tc := range []struct{ client, server string }{
		{"10.0.0.1:50000", "10.0.0.80:80"},
		{"10.0.0.90:80", "10.0.0.1:50000"}, // the client's side is b
		{"[2001:db8::1]:50000", "[2001:db8::80]:80"},
		{"[::ffff:10.0.0.1]:50000", "[::ffff:10.0.0.80]:80"}, // IPv4-mapped, in IPv6 headers
	} {
		t.Run(tc.client, func(t *testing.T) {
			src := srcOpenBytes(t, srcCapture(t, capwriter.PCAPNG, capwriter.Encap{}, srcConversation(tc.client, tc.server)))
			defer src.Close()
			num := newNumberer(time.Minute)
			b := &packetBatch{recs: make([]batchRec, 0, 4), buf: make([]byte, 0, 4096)}
			n := 0
			for p, err := src.Next(); err == nil; p, err = src.Next() {
				num.assign(p)
				if p.shard == 0 {
					t.Fatalf("frame %d: no shard hash assigned", p.Frame)
				}
				got, plain := batchRoundTrip(t, b, p)
				if !plain {
					t.Fatalf("frame %d travelled whole", p.Frame)
				}
				// The shard hash picked the worker and stays behind; the
				// rest must come back as it went.
				want := *p
				want.shard = 0
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("frame %d:\n got %+v\nwant %+v", p.Frame, *got, want)
				}
				if got.TCP.TransportFlow() != p.TCP.TransportFlow() {
					t.Errorf("frame %d: transport flow %v, want %v", p.Frame, got.TCP.TransportFlow(), p.TCP.TransportFlow())
				}
				n++
			}
			if n != 11 {
				t.Errorf("%d packets, want 11", n)
			}
		})
	}
}

// TestBatchOddPackets: what a record cannot rebuild travels whole, its
// payload copied.
func TestBatchOddPackets(t *testing.T) {
	utc := time.Date(2024, 3, 11, 8, 0, 0, 5, time.UTC)
	a4, b4 := netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.80:80")
	header := func(p *Packet) {
		// A 20-byte header as decoded: DataOffset 5, Contents the bytes.
		var h [20]byte
		h[12] = 5 << 4
		if err := p.TCP.DecodeFromBytes(append(h[:], p.TCP.Payload...), nilDF); err != nil {
			t.Fatal(err)
		}
	}
	packet := func(src, dst netip.AddrPort, ts time.Time, payload []byte, decoded bool) *Packet {
		p := &Packet{Time: ts, now: ts, Src: src.Addr(), Dst: dst.Addr()}
		p.TCP.Payload = payload
		if decoded {
			header(p)
		}
		p.TCP.SrcPort, p.TCP.DstPort = layers.TCPPort(src.Port()), layers.TCPPort(dst.Port())
		var srcIsA bool
		p.key, srcIsA = makeTupleKey(0, src, dst)
		if !srcIsA {
			p.side = 1
		}
		return p
	}
	zoned := netip.AddrPortFrom(netip.MustParseAddr("fe80::1%eth0"), 50000)
	tests := []struct {
		name string
		p    *Packet
	}{
		{"hand-built TCP layer", packet(a4, b4, utc, []byte("GET"), false)},
		{"local time", packet(a4, b4, utc.Local(), []byte("GET"), true)},
		{"monotonic reading", packet(a4, b4, time.Now(), []byte("GET"), true)},
		{"zoned address", packet(zoned, netip.MustParseAddrPort("[fe80::2]:80"), utc, []byte("GET"), true)},
		{"larger than the buffer", packet(a4, b4, utc, bytes.Repeat([]byte("x"), 100), true)},
	}
	if strconv.IntSize == 64 {
		// Counts a 32-bit record field cannot hold (a variable, as the
		// constant overflows a 32-bit int).
		var big64 int64 = math.MaxInt32 + 1
		big := int(big64)
		for _, c := range []struct {
			name string
			set  func(p *Packet)
		}{
			{"frame beyond 32 bits", func(p *Packet) { p.Frame = big64 }},
			{"file beyond 32 bits", func(p *Packet) { p.File = big }},
			{"stream beyond 32 bits", func(p *Packet) { p.stream = big }},
			{"conversation beyond 32 bits", func(p *Packet) { p.conv = big }},
			{"missing bytes beyond 32 bits", func(p *Packet) { p.MissingBytes = big }},
			{"negative beyond 32 bits", func(p *Packet) { p.stream = -big - 1 }},
		} {
			p := packet(a4, b4, utc, []byte("GET"), true)
			c.set(p)
			tests = append(tests, struct {
				name string
				p    *Packet
			}{c.name, p})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &packetBatch{recs: make([]batchRec, 0, 4), buf: make([]byte, 0, 64)}
			got, plain := batchRoundTrip(t, b, tc.p)
			if plain {
				t.Fatal("travelled as a plain record")
			}
			want := *tc.p
			want.TCP.Contents, want.TCP.Options, want.TCP.Padding = nil, nil, nil
			// The port slices gopacket's assembler keys on must be the
			// packet's ports, in memory of the copy's own.
			want.TCP.SetInternalPortsForTesting()
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got %+v\nwant %+v", *got, want)
			}
			if len(got.TCP.Payload) > 0 && &got.TCP.Payload[0] == &tc.p.TCP.Payload[0] {
				t.Error("the payload was not copied")
			}
		})
	}
}

// TestBatchRecordSize: the dispatcher writes a record for every packet;
// one that grows (a field added, or widened) costs every capture.
func TestBatchRecordSize(t *testing.T) {
	if strconv.IntSize != 64 {
		t.Skip("sizes counted for 64-bit platforms")
	}
	if n := unsafe.Sizeof(batchRec{}); n > 104 {
		t.Errorf("batchRec is %d bytes, want at most 104", n)
	}
}

// TestBatchTicks: a tick keeps its time exactly, whether it fits a record
// or not.
func TestBatchTicks(t *testing.T) {
	for _, now := range []time.Time{time.Unix(1700000000, 123).UTC(), time.Unix(1700000000, 123), time.Now(), {}} {
		b := &packetBatch{recs: make([]batchRec, 0, 4)}
		b.addTick(now)
		var got time.Time
		switch r := &b.recs[0]; r.kind {
		case recTick:
			got = time.Unix(r.nowSec, int64(r.nowNsec)).UTC()
		case recOdd:
			if !b.odd[r.off].tick {
				t.Fatal("an odd tick lost its mark")
			}
			got = b.odd[r.off].now
		}
		if got != now {
			t.Errorf("tick at %v came back as %v", now, got)
		}
	}
}
