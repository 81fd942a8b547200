//go:build linux

package reassembly

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
)

// openLive opens a live capture, or skips the test when the process may
// not capture (unless NTLMSCOPE_REQUIRE_SHARED says this is CI, which
// runs as root).
func openLive(t *testing.T, opts LiveOptions) *LiveSource {
	t.Helper()
	src, err := OpenLive(opts)
	if errors.Is(err, ErrNoPrivilege) {
		if os.Getenv("NTLMSCOPE_REQUIRE_SHARED") != "" {
			t.Fatalf("live capture needs root (CI runs as root): %v", err)
		}
		t.Skipf("skipping live capture test: %v", err)
	}
	if err != nil {
		t.Fatalf("OpenLive: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// httpServer serves a few bytes on addr (host:0) and returns its port.
func httpServer(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", "NTLM")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, "login please")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// get makes n requests on one connection (keep-alive), then closes it.
func get(t *testing.T, url string, n int) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for range n {
		resp, err := c.Get(url)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// liveSeg is what the tests compare of a captured TCP packet.
type liveSeg struct {
	File     int
	Frame    int64
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    string
	Payload  string
}

func segOf(p *Packet) liveSeg {
	t := &p.TCP
	flags := fmt.Sprintf("%v%v%v%v", t.SYN, t.ACK, t.FIN, t.RST)
	return liveSeg{p.File, p.Frame, netip.AddrPortFrom(p.Src, uint16(t.SrcPort)), netip.AddrPortFrom(p.Dst, uint16(t.DstPort)),
		t.Seq, t.Ack, flags, string(t.Payload)}
}

// capture drives traffic while reading src, stops src when traffic
// returns, and returns every TCP packet read.
func capture(t *testing.T, src *LiveSource, traffic func()) []liveSeg {
	t.Helper()
	go func() {
		time.Sleep(100 * time.Millisecond) // the ring is ready, but let the reader start
		traffic()
		time.Sleep(100 * time.Millisecond)
		src.Stop()
	}()
	var segs []liveSeg
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := src.Next()
		if err == io.EOF {
			return segs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		segs = append(segs, segOf(p))
		if time.Now().After(deadline) {
			t.Fatal("the capture did not stop")
		}
	}
}

func TestLiveLoopbackSeesEachPacketOnce(t *testing.T) {
	port := httpServer(t, "127.0.0.7")
	f, err := pcapfilter.Parse(fmt.Sprintf("tcp port %d", port))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	iface, _ := net.InterfaceByName("lo")
	w, err := CreatePcapng(PcapngOptions{Path: filepath.Join(dir, "lo.pcapng"), Filter: f.String(),
		Interface: describe(*iface)})
	if err != nil {
		t.Fatal(err)
	}
	src := openLive(t, LiveOptions{Interface: "lo", Filter: f, Writer: w})
	if src.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("lo link type %v, want Ethernet", src.LinkType())
	}
	segs := capture(t, src, func() { get(t, fmt.Sprintf("http://127.0.0.7:%d/", port), 3) })
	st := src.Stats()
	if err := w.Close(st); err != nil {
		t.Fatal(err)
	}

	// Each segment once: loopback shows every packet twice to AF_PACKET.
	seen := map[string]bool{}
	requests := 0
	for _, s := range segs {
		k := fmt.Sprintf("%v>%v seq=%d ack=%d %s len=%d", s.Src, s.Dst, s.Seq, s.Ack, s.Flags, len(s.Payload))
		if seen[k] {
			t.Errorf("captured twice: %s", k)
		}
		seen[k] = true
		if strings.HasPrefix(s.Payload, "GET / HTTP/1.1") {
			requests++
		}
	}
	if requests != 3 {
		t.Errorf("%d requests captured, want 3 (%d segments)", requests, len(segs))
	}
	if st.Packets != int64(len(segs)) || st.TCP != st.Packets || st.Interface != "lo" {
		t.Errorf("stats %+v for %d segments", st, len(segs))
	}
	if len(st.Files) != 1 || st.Files[0] != filepath.Join(dir, "lo.pcapng") {
		t.Errorf("Files = %v", st.Files)
	}

	// The file holds the same packets, with the same frame numbers.
	fsrc, err := OpenFiles(st.Files, nil)
	if err != nil {
		t.Fatal(err)
	}
	var again []liveSeg
	for {
		p, err := fsrc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		again = append(again, segOf(p))
	}
	fsrc.Close()
	if len(again) != len(segs) {
		t.Fatalf("file has %d TCP packets, the capture %d", len(again), len(segs))
	}
	for i := range segs {
		if again[i] != segs[i] {
			t.Errorf("packet %d: live %+v, file %+v", i, segs[i], again[i])
		}
	}
}

func TestLiveFilterExcludesTraffic(t *testing.T) {
	port := httpServer(t, "127.0.0.8")
	f, _ := pcapfilter.Parse(fmt.Sprintf("tcp port %d", port+1))
	src := openLive(t, LiveOptions{Interface: "lo", Filter: f})
	segs := capture(t, src, func() { get(t, fmt.Sprintf("http://127.0.0.8:%d/", port), 2) })
	for _, s := range segs {
		if s.Src.Port() == uint16(port) || s.Dst.Port() == uint16(port) {
			t.Errorf("the filter let through %+v", s)
		}
	}
}

func TestLiveAnyInterface(t *testing.T) {
	port := httpServer(t, "127.0.0.9")
	f, _ := pcapfilter.Parse(fmt.Sprintf("tcp port %d", port))
	dir := t.TempDir()
	w, err := CreatePcapng(PcapngOptions{Path: filepath.Join(dir, "any.pcapng"), Interface: anyInterface(), RotateSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	src := openLive(t, LiveOptions{Interface: AnyInterface, Filter: f, Writer: w})
	if src.LinkType() != layers.LinkTypeRaw {
		t.Errorf("any link type %v, want raw IP", src.LinkType())
	}
	segs := capture(t, src, func() { get(t, fmt.Sprintf("http://127.0.0.9:%d/", port), 2) })
	st := src.Stats()
	w.Close(st)
	seen := map[string]bool{}
	for _, s := range segs {
		k := fmt.Sprintf("%v>%v %d %d %s %d", s.Src, s.Dst, s.Seq, s.Ack, s.Flags, len(s.Payload))
		if seen[k] {
			t.Errorf("captured twice under any: %s", k)
		}
		seen[k] = true
		// The files follow each other: the live run counts frames on
		// through them, as OpenFiles reads them back.
		if f, n := NewFrameLocator(st).Locate(s.File, s.Frame); n != 1 || f != s.File || s.File < 0 || s.File >= len(st.Files) {
			t.Errorf("with a file per packet (RotateSize 1), every packet is frame 1 of its file: %+v (frame %d of file %d)", s, n, f)
		}
	}
	if len(segs) < 8 || len(st.Files) != len(segs) {
		t.Fatalf("%d segments, %d files", len(segs), len(st.Files))
	}
	// Rotated files read back in one merged run give the same packets:
	// the files follow each other, so their frames count on through the
	// chain, as the live run's did.
	fsrc, err := OpenFiles(st.Files, nil)
	if err != nil {
		t.Fatal(err)
	}
	var back []liveSeg
	for {
		p, err := fsrc.Next()
		if err != nil {
			break
		}
		back = append(back, segOf(p))
	}
	loc := NewFrameLocator(fsrc.Stats())
	if loc == nil || !loc.Chained(0) {
		t.Errorf("the rotated files do not form a chain: %+v", fsrc.Stats().Chain)
	}
	for i, got := range back {
		if i < len(segs) && got != segs[i] {
			t.Errorf("packet %d: live %+v, files %+v", i, segs[i], got)
		}
	}
	if len(back) != len(segs) {
		t.Errorf("files hold %d packets, the capture %d", len(back), len(segs))
	}
}

func TestLiveStopIsPromptWhenIdle(t *testing.T) {
	f, _ := pcapfilter.Parse("tcp port 1 and host 127.0.0.254")
	src := openLive(t, LiveOptions{Interface: "lo", Filter: f})
	idle := 0
	src.opts.Idle = func(time.Time) { idle++ }
	time.AfterFunc(300*time.Millisecond, src.Stop)
	start := time.Now()
	if _, err := src.Next(); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond+time.Second {
		t.Errorf("Next took %v after Stop", d-300*time.Millisecond)
	}
	if idle == 0 {
		t.Error("Idle was never called on an idle interface")
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLiveMaxPackets(t *testing.T) {
	port := httpServer(t, "127.0.0.10")
	f, _ := pcapfilter.Parse(fmt.Sprintf("tcp port %d", port))
	src := openLive(t, LiveOptions{Interface: "lo", Filter: f, MaxPackets: 3})
	segs := capture(t, src, func() { get(t, fmt.Sprintf("http://127.0.0.10:%d/", port), 2) })
	if len(segs) != 3 || src.Stats().Packets != 3 {
		t.Errorf("%d packets, want 3", len(segs))
	}
}

func TestLiveUnknownInterface(t *testing.T) {
	_, err := OpenLive(LiveOptions{Interface: "nosuch0"})
	if !errors.Is(err, ErrNoInterface) || !strings.Contains(err.Error(), "lo") || !strings.Contains(err.Error(), "any") {
		t.Errorf("OpenLive(nosuch0) = %v", err)
	}
}

// TestKernelProgram runs the kernel program in x/net/bpf's VM, the
// ancillary loads replaced by the values the kernel would load.
func TestKernelProgram(t *testing.T) {
	user, _ := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x45, SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	})
	ipv4 := []byte{0x45, 0, 0, 20}
	tests := []struct {
		g                     kernelGuards
		user                  []bpf.RawInstruction
		hatype, pkttype, prot uint32
		pkt                   []byte
		want                  int
	}{
		{kernelGuards{loopback: true}, user, arphrdLoopback, packetOutgoing, 0x800, ipv4, 0},
		{kernelGuards{loopback: true}, user, arphrdLoopback, 0, 0x800, ipv4, 5},
		{kernelGuards{loopback: true}, nil, arphrdLoopback, 0, 0x800, ipv4, 5},
		{kernelGuards{loopback: true, ipOnly: true}, user, arphrdEther, packetOutgoing, 0x800, ipv4, 5},
		{kernelGuards{loopback: true, ipOnly: true}, user, arphrdLoopback, packetOutgoing, 0x800, ipv4, 0},
		{kernelGuards{loopback: true, ipOnly: true}, user, arphrdEther, 0, 0x806, ipv4, 0},
		{kernelGuards{ipOnly: true}, user, 65534, 0, 0x86dd, ipv4, 5},
		{kernelGuards{ipOnly: true}, user, 65534, 0, 0x86dd, []byte{0x60, 0, 0, 0}, 0},
		{kernelGuards{}, user, 0, 0, 0, ipv4, 5}, // the user's 262144 cut to the snap length, 5
		{kernelGuards{}, nil, 0, 0, 0, []byte{1, 2, 3, 4, 5, 6}, 5},
	}
	for i, tc := range tests {
		raw, err := kernelProgram(tc.g, tc.user, 5)
		if err != nil {
			t.Fatal(err)
		}
		ins, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatalf("case %d: does not disassemble: %v", i, ins)
		}
		for j, in := range ins {
			if la, ok := in.(bpf.LoadExtension); ok {
				v := map[bpf.Extension]uint32{bpf.ExtLinkLayerType: tc.hatype, bpf.ExtType: tc.pkttype, bpf.ExtProto: tc.prot}[la.Num]
				ins[j] = bpf.LoadConstant{Dst: bpf.RegA, Val: v}
			}
		}
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got, _ := vm.Run(tc.pkt); got != tc.want {
			t.Errorf("case %d (%+v hatype %d pkttype %d proto %#x): %d, want %d", i, tc.g, tc.hatype, tc.pkttype, tc.prot, got, tc.want)
		}
	}
}

// TestLiveKernelDropsAreCounted fills a small ring while nobody reads it:
// the kernel drops, and Stats says so, with a warning.
func TestLiveKernelDropsAreCounted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.14:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	f, _ := pcapfilter.Parse(fmt.Sprintf("tcp port %d", port))
	src := openLive(t, LiveOptions{Interface: "lo", Filter: f, BufferSize: 2 << 20})
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for range 64 { // 64 MiB through a 2 MiB ring nobody reads
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	time.Sleep(200 * time.Millisecond)
	src.Stop()
	for {
		if _, err := src.Next(); err != nil {
			break
		}
	}
	st := src.Stats()
	if st.KernelDrops == 0 {
		t.Fatalf("no drops counted (%d packets read)", st.Packets)
	}
	if len(st.Warnings) == 0 || !strings.Contains(st.Warnings[len(st.Warnings)-1], fmt.Sprintf("the kernel dropped %d packets", st.KernelDrops)) {
		t.Errorf("warnings %q", st.Warnings)
	}
	src.Close()
	if after := src.Stats(); after.KernelDrops != st.KernelDrops {
		t.Errorf("drops after Close: %d, before %d", after.KernelDrops, st.KernelDrops)
	}
}

// TestLiveNothingBeforeTheFilter floods lo while the capture opens: the
// socket receives from the moment it is bound, before the filter is
// attached, and those packets must not come out.
func TestLiveNothingBeforeTheFilter(t *testing.T) {
	conn, err := net.Dial("udp", "127.0.0.15:9")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				conn.Write([]byte("flood"))
			}
		}
	}()
	f, _ := pcapfilter.Parse("tcp port 1 and host 127.0.0.254")
	for range 5 {
		src := openLive(t, LiveOptions{Interface: "lo", Filter: f})
		time.AfterFunc(100*time.Millisecond, src.Stop)
		for {
			if _, err := src.Next(); err != nil {
				break
			}
		}
		if st := src.Stats(); st.Packets != 0 {
			t.Fatalf("%d packets captured that the filter excludes (%d UDP)", st.Packets, st.NonTCP)
		}
		src.Close()
	}
}

// TestLiveRotationKeepsConnections: a live capture that rotates its file
// after every packet reports each connection whole, as a run over the files
// does (OpenFiles chains them): one connection, going on through every
// file after its first, tcp.stream 0 in each (the file's only
// conversation).
func TestLiveRotationKeepsConnections(t *testing.T) {
	port := httpServer(t, "127.0.0.9")
	f, _ := pcapfilter.Parse(fmt.Sprintf("tcp port %d", port))
	w, err := CreatePcapng(PcapngOptions{Path: filepath.Join(t.TempDir(), "lo.pcapng"), Interface: anyInterface(), RotateSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	src := openLive(t, LiveOptions{Interface: AnyInterface, Filter: f, Writer: w})
	go func() {
		time.Sleep(100 * time.Millisecond)
		get(t, fmt.Sprintf("http://127.0.0.9:%d/", port), 2)
		time.Sleep(100 * time.Millisecond)
		src.Stop()
	}()
	rec := &recorder{}
	if _, err := Run(src, rec, Options{}); err != nil {
		t.Fatal(err)
	}
	st := src.Stats()
	w.Close(st)
	if len(rec.closed) != 1 {
		t.Fatalf("%d connections, want 1 across %d files:\n%s", len(rec.closed), len(st.Files), strings.Join(rec.events, "\n"))
	}
	c := rec.closed[0]
	// The last ACK, after both FINs, comes after the connection ended:
	// its file may be no part.
	if len(st.Files) < 8 || len(c.Parts) < len(st.Files)-2-c.File || len(c.Parts) > len(st.Files)-1-c.File {
		t.Errorf("the connection starts in file %d of %d and goes on into %d more", c.File, len(st.Files), len(c.Parts))
	}
	for i, p := range c.Parts {
		if p.File != c.File+1+i || p.Stream != 0 {
			t.Errorf("part %d: file %d, tcp.stream %d; want file %d, tcp.stream 0", i, p.File, p.Stream, c.File+1+i)
		}
	}
	if n := strings.Count(strings.Join(rec.events, "\n"), "resp "); n != 2 {
		t.Errorf("%d responses, want 2:\n%s", n, strings.Join(rec.events, "\n"))
	}
}
