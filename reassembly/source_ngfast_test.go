package reassembly

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// ngBuilder writes pcapng blocks by hand, in either byte order, with the
// options and block types the capture writers never produce.
type ngBuilder struct {
	buf   bytes.Buffer
	order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
}

// block writes a block of type typ with the given body (padded to 32 bits).
func (b *ngBuilder) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b.buf.Write(b.order.AppendUint32(nil, typ))
	b.buf.Write(b.order.AppendUint32(nil, n))
	b.buf.Write(body)
	b.buf.Write(b.order.AppendUint32(nil, n))
}

// option encodes one option, padded.
func (b *ngBuilder) option(code uint16, v []byte) []byte {
	o := b.order.AppendUint16(nil, code)
	o = b.order.AppendUint16(o, uint16(len(v)))
	o = append(o, v...)
	for len(o)%4 != 0 {
		o = append(o, 0)
	}
	return o
}

func (b *ngBuilder) shb() {
	body := b.order.AppendUint32(nil, 0x1a2b3c4d)
	body = b.order.AppendUint16(body, 1)
	body = b.order.AppendUint16(body, 0)
	body = b.order.AppendUint64(body, ^uint64(0))
	b.block(ngBlockSHB, body)
}

// idb writes an interface with an optional timestamp resolution (0: none)
// and offset.
func (b *ngBuilder) idb(lt uint16, tsresol byte, tsoffset uint64) {
	body := b.order.AppendUint16(nil, lt)
	body = b.order.AppendUint16(body, 0)
	body = b.order.AppendUint32(body, 262144)
	if tsresol != 0 {
		body = append(body, b.option(9, []byte{tsresol})...)
	}
	if tsoffset != 0 {
		body = append(body, b.option(14, b.order.AppendUint64(nil, tsoffset))...)
	}
	if tsresol != 0 || tsoffset != 0 {
		body = append(body, 0, 0, 0, 0)
	}
	b.block(ngBlockIDB, body)
}

// epb writes an enhanced packet block; opts are appended after the data.
func (b *ngBuilder) epb(iface uint32, ts uint64, data, opts []byte) {
	body := b.order.AppendUint32(nil, iface)
	body = b.order.AppendUint32(body, uint32(ts>>32))
	body = b.order.AppendUint32(body, uint32(ts))
	body = b.order.AppendUint32(body, uint32(len(data)))
	body = b.order.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b.block(ngBlockEPB, append(body, opts...))
}

// ngFastCaptures returns pcapng files that take the fast path and leave it
// in every way: both byte orders, sections, several interfaces and
// timestamp resolutions, options, simple and statistics blocks.
func ngFastCaptures(tb testing.TB) map[string][]byte {
	ps := srcConversation("10.0.0.1:1234", "10.0.0.2:80")
	var frames [][]byte
	for _, p := range ps {
		fs, err := capwriter.Encap{}.Frames(p)
		if err != nil {
			tb.Fatal(err)
		}
		frames = append(frames, fs...)
	}
	out := map[string][]byte{}
	for _, big := range []bool{false, true} {
		b := &ngBuilder{order: binary.LittleEndian}
		if big {
			b.order = binary.BigEndian
		}
		b.shb()
		b.idb(1, 0, 0)         // Ethernet, microseconds
		b.idb(1, 9, 0)         // nanoseconds
		b.idb(1, 0x80|20, 100) // 2^-20 s, 100 s later
		b.idb(1, 3, 0)         // milliseconds
		for i, fr := range frames {
			ts := uint64(1714564800_000000) + uint64(i)*1234567
			var opts []byte
			switch i % 7 {
			case 3:
				opts = append(b.option(2, b.order.AppendUint32(nil, 1)), 0, 0, 0, 0) // epb_flags
			case 5:
				b.block(ngBlockISB, append(b.order.AppendUint32(nil, 0), make([]byte, 12)...))
			case 6:
				opts = []byte{0, 0, 0, 0} // end of options alone
			}
			b.epb(uint32(i%4), ts, fr, opts)
			if i%9 == 8 {
				b.block(ngBlockSPB, append(b.order.AppendUint32(nil, uint32(len(fr))), fr...))
			}
			if i == len(frames)/2 { // a new section with other interfaces
				b.shb()
				b.idb(1, 9, 0)
			}
		}
		out[fmt.Sprint(b.order)] = b.buf.Bytes()
	}
	out["capwriter"] = srcCapture(tb, capwriter.PCAPNG, capwriter.Encap{}, ps)
	return out
}

// ngRecord is one record read from a capture, as next returns it.
type ngRecord struct {
	frame   int64
	time    string
	src     string
	payload string
}

// ngReadAll reads every TCP record of b through captureFile.next, with or
// without the fast path, and returns them with the final stats.
func ngReadAll(tb testing.TB, b []byte, slow bool) ([]ngRecord, SourceStats) {
	f, err := openCapture("test.pcapng", 0, bytes.NewReader(b), nil, true)
	if err != nil {
		tb.Fatal(err)
	}
	f.noFastNg = slow
	var recs []ngRecord
	for {
		p, err := f.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		recs = append(recs, ngRecord{p.Frame, p.Time.Format("2006-01-02T15:04:05.999999999Z07:00") + p.Time.Location().String(),
			fmt.Sprint(p.Src, p.TCP.SrcPort, p.Dst, p.TCP.DstPort, p.TCP.Seq), string(p.TCP.Payload)})
	}
	return recs, f.statsNow()
}

// TestNgFastPathAgrees reads captures with and without the fast path:
// packets, times, frames and stats must be the same.
func TestNgFastPathAgrees(t *testing.T) {
	for name, b := range ngFastCaptures(t) {
		t.Run(name, func(t *testing.T) {
			fast, fst := ngReadAll(t, b, false)
			slow, sst := ngReadAll(t, b, true)
			if len(fast) == 0 {
				t.Fatal("no packets")
			}
			if fmt.Sprint(fast) != fmt.Sprint(slow) || fmt.Sprint(fst) != fmt.Sprint(sst) {
				t.Errorf("fast path:\n%v\n%+v\nslow path:\n%v\n%+v", fast, fst, slow, sst)
			}
		})
	}
}

// TestNgFastPathDamage damages a capture at every 4-byte position: the
// fast path must read what the slow one reads, and warn alike.
func TestNgFastPathDamage(t *testing.T) {
	b := ngFastCaptures(t)[fmt.Sprint(binary.BigEndian)]
	for off := 0; off+4 <= len(b); off += 4 {
		for _, v := range []uint32{0, 0xffffffff, 7} {
			d := bytes.Clone(b)
			binary.BigEndian.PutUint32(d[off:], v)
			if _, err := openCapture("test.pcapng", 0, bytes.NewReader(d), nil, true); err != nil {
				continue
			}
			fast, fst := ngReadAll(t, d, false)
			slow, sst := ngReadAll(t, d, true)
			if fmt.Sprint(fast) != fmt.Sprint(slow) || strings.Join(fst.Warnings, "\n") != strings.Join(sst.Warnings, "\n") {
				t.Fatalf("%#x at offset %d: fast path read %d packets, warnings %q; slow path %d, %q", v, off, len(fast), fst.Warnings, len(slow), sst.Warnings)
			}
		}
	}
}

// FuzzNgFastPath reads arbitrary bytes with and without the fast path.
func FuzzNgFastPath(f *testing.F) {
	for _, b := range ngFastCaptures(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := openCapture("test.pcapng", 0, bytes.NewReader(b), nil, true); err != nil {
			return
		}
		fast, fst := ngReadAll(t, b, false)
		slow, sst := ngReadAll(t, b, true)
		if fmt.Sprint(fast) != fmt.Sprint(slow) || fmt.Sprint(fst) != fmt.Sprint(sst) {
			t.Fatalf("fast path read %d packets, %+v; slow path %d, %+v", len(fast), fst, len(slow), sst)
		}
	})
}
