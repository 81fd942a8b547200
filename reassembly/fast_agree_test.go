package reassembly

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// This file checks the fast paths of the per-packet code against the
// plain code they replace, kept here as the reference.

// lessAddrPortRef is lessAddrPort without its IPv4 shortcut.
func lessAddrPortRef(x, y netip.AddrPort) bool {
	if c := x.Addr().Compare(y.Addr()); c != 0 {
		return c < 0
	}
	return x.Port() < y.Port()
}

// fuzzAddr makes an address of b's first bytes: IPv4, IPv6, IPv4-mapped
// IPv6 or IPv6 with a zone, by kind.
func fuzzAddr(b [16]byte, kind byte) netip.Addr {
	switch kind % 4 {
	case 0:
		return netip.AddrFrom4([4]byte(b[:4]))
	case 1:
		return netip.AddrFrom16(b)
	case 2:
		return netip.AddrFrom16(netip.AddrFrom4([4]byte(b[:4])).As16())
	}
	return netip.AddrFrom16(b).WithZone("eth0")
}

func checkLessAddrPort(t *testing.T, x, y netip.AddrPort) {
	t.Helper()
	if got, want := lessAddrPort(x, y), lessAddrPortRef(x, y); got != want {
		t.Errorf("lessAddrPort(%v, %v) = %v, want %v", x, y, got, want)
	}
}

func TestLessAddrPortAgrees(t *testing.T) {
	addrs := []string{"0.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.1.1", "127.0.0.1", "255.255.255.255", "128.0.0.0",
		"::", "::1", "::ffff:10.0.0.1", "fe80::1", "fe80::1%eth0", "2001:db8::1", "ffff::"}
	ports := []uint16{0, 1, 80, 443, 40000, 65535}
	for _, a := range addrs {
		for _, b := range addrs {
			for _, pa := range ports {
				for _, pb := range ports {
					checkLessAddrPort(t, netip.AddrPortFrom(netip.MustParseAddr(a), pa), netip.AddrPortFrom(netip.MustParseAddr(b), pb))
				}
			}
		}
	}
}

func FuzzLessAddrPort(f *testing.F) {
	f.Add([]byte("\x0a\x00\x00\x01\x0a\x00\x00\x02"), byte(0), byte(0), uint16(40000), uint16(80))
	f.Add([]byte("\x0a\x00\x00\x01\x0a\x00\x00\x01"), byte(0), byte(2), uint16(80), uint16(80))
	f.Add(bytes.Repeat([]byte{0xfe, 0x80}, 16), byte(1), byte(3), uint16(1), uint16(2))
	f.Fuzz(func(t *testing.T, b []byte, kx, ky byte, px, py uint16) {
		var x, y [16]byte
		copy(x[:], b)
		if len(b) > 16 {
			copy(y[:], b[16:])
		} else {
			copy(y[:], b[min(4, len(b)):])
		}
		checkLessAddrPort(t, netip.AddrPortFrom(fuzzAddr(x, kx), px), netip.AddrPortFrom(fuzzAddr(y, ky), py))
	})
}

// TestTupleKeyEqual: equal agrees with the language's == on keys that
// differ in each field alone.
func TestTupleKeyEqual(t *testing.T) {
	base, _ := makeTupleKey(1, netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80"))
	changed := map[string]bool{} // the cases' names
	for _, tt := range []struct {
		name   string
		change func(k *tupleKey)
	}{
		{"same", func(*tupleKey) {}},
		{"a", func(k *tupleKey) { k.a[15]++ }},
		{"a first byte", func(k *tupleKey) { k.a[0]++ }},
		{"b", func(k *tupleKey) { k.b[15]++ }},
		{"b middle", func(k *tupleKey) { k.b[8]++ }},
		{"pa", func(k *tupleKey) { k.pa++ }},
		{"pb", func(k *tupleKey) { k.pb++ }},
		{"file", func(k *tupleKey) { k.file++ }},
		{"v4", func(k *tupleKey) { k.v4 = !k.v4 }},
	} {
		k := base
		tt.change(&k)
		if got, want := base.equal(&k), base == k; got != want {
			t.Errorf("%s: equal = %v, == says %v", tt.name, got, want)
		}
		changed[tt.name] = true
	}
	// equal compares the fields one by one, so a field added to tupleKey
	// must be added there too: a case named after each field (changing
	// it) proves that equal compares it.
	typ := reflect.TypeFor[tupleKey]()
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; !changed[name] {
			t.Errorf("no case changes tupleKey.%s: add one, and compare the field in equal", name)
		}
	}
}

// parseFieldsRef is parseFields as it was before it took the line ends
// from scanBlock: it searches s, the lines after the start line, for them.
func parseFieldsRef(s string) []HeaderField {
	var h []HeaderField
	folds := false
	for s != "" {
		var line string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if folds {
				f := &h[len(h)-1]
				if v := trimOWS(line); v != "" && f.Value != "" {
					f.Value += " " + v
				} else if v != "" {
					f.Value = v
				}
			}
			continue
		}
		colon := tokenLen(line)
		if colon == 0 || colon == len(line) || line[colon] != ':' {
			folds = false
			continue
		}
		h = append(h, HeaderField{Name: line[:colon], Value: trimOWS(line[colon+1:])})
		folds = true
	}
	return h
}

// checkHeaderFields feeds a request with the field lines fields to a
// parser, in two pieces cut at cut, and compares the first message's
// header with parseFieldsRef's reading of its block.
func checkHeaderFields(t *testing.T, fields []byte, cut int) {
	t.Helper()
	data := append([]byte("GET / HTTP/1.1\r\n"), fields...)
	data = append(data, "\r\n\r\n"...)
	var got []HeaderField
	var block string
	n := 0
	p := NewHTTPParser(ClientToServer, HTTPCallbacks{Message: func(m *Message) {
		if n++; n == 1 {
			got = append([]HeaderField{}, m.Header...)
			block = string(data[:m.HeaderBytes])
		}
	}})
	cut = min(max(cut, 0), len(data))
	p.Feed(data[:cut], Segment{Frame: 1})
	p.Feed(data[cut:], Segment{Frame: 2})
	p.End(Segment{Frame: 2})
	if n == 0 {
		return // no block found (too many fields, say)
	}
	start := strings.IndexByte(block, '\n') + 1
	want := parseFieldsRef(block[start:])
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields %q cut at %d:\ngot  %q\nwant %q", fields, cut, got, want)
	}
}

func TestHeaderFieldsAgree(t *testing.T) {
	for _, fields := range []string{
		"",
		"Host: x",
		"Host: x\r\nAccept: */*",
		"Host: x\nAccept: */*\r\nX:  y  ",
		"X-Fold: a\r\n b\r\n\tc\r\nY: d",
		" leading: fold\r\nHost: x",
		"bad line\r\nHost: x\r\n: empty name\r\nNoColon",
		"Empty:\r\nE2: \r\n  \r\nE3: v",
		"Host: x\r\n\r\nNot: header",
		strings.Repeat("F: v\r\n", 300) + "Last: v",
	} {
		for cut := 0; cut < 16+len(fields)+4; cut++ {
			checkHeaderFields(t, []byte(fields), cut)
		}
	}
}

func FuzzHeaderFields(f *testing.F) {
	f.Add([]byte("Host: x\r\nX-Fold: a\r\n b\r\nbad\r\nY: z"), 20)
	f.Add([]byte("A: b\nC: d\r\n\r\nE: f"), 3)
	f.Fuzz(func(t *testing.T, fields []byte, cut int) {
		checkHeaderFields(t, fields, cut)
	})
}
