package reassembly

import (
	"bytes"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// dsbCapture writes a pcapng capture of the packets of each part in turn,
// with a Decryption Secrets Block of secrets[i] (when not nil) before the
// packets of part i.
func dsbCapture(t *testing.T, parts []capwriter.Packets, secrets [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	enc := capwriter.Encap{Link: capwriter.Ethernet}
	for i, pkts := range parts {
		if secrets[i] != nil {
			if err := w.WriteDecryptionSecretsBlock(pcapgo.DSB_SECRETS_TYPE_TLS, secrets[i]); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range pkts {
			frames, err := enc.Frames(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range frames {
				ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(f), Length: len(f)}
				if err := w.WritePacket(ci, f); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTLSEmbeddedSecrets: secrets in Decryption Secrets Blocks decrypt the
// capture without a key log, wherever the blocks are (before the first
// packet, or between connections); a bad line in one is a warning.
func TestTLSEmbeddedSecrets(t *testing.T) {
	a := synthNTLM(t, versionTLS12, 0xc02f)
	b := synthNTLM(t, versionTLS13, 0x1303)
	pa := a.packets(1460)
	pb := b.packets(1460)
	// The second connection: another client port, ten seconds later.
	moved := func(ap netip.AddrPort) netip.AddrPort {
		if ap.Port() == 443 {
			return ap
		}
		return netip.AddrPortFrom(ap.Addr(), ap.Port()+1)
	}
	for i := range pb {
		pb[i].Src, pb[i].Dst = moved(pb[i].Src), moved(pb[i].Dst)
		pb[i].Time = pb[i].Time.Add(10e9)
	}
	capture := dsbCapture(t, []capwriter.Packets{pa, pb}, [][]byte{a.keyLog(), append([]byte("NOT A KEY LOG LINE\n"), b.keyLog()...)})
	log, st, sst := analyse(t, capture, nil)
	if sst.TLSSecretsBlocks != 2 || st.TLSDecrypted != 2 || len(log.msgs) != 16 {
		t.Errorf("%d messages, stats %+v, source %+v", len(log.msgs), st, sst)
	}
	if len(sst.Warnings) != 1 || !strings.Contains(sst.Warnings[0], "embedded secrets") || !strings.Contains(sst.Warnings[0], "line 1") {
		t.Errorf("warnings %q", sst.Warnings)
	}

	// Sharded over workers, each finds the embedded secrets: the same.
	src := srcOpenBytes(t, capture)
	defer src.Close()
	rlog := &msgLog{}
	if st, err := Run(src, &lockedHandler{h: rlog}, Options{Workers: 3}); err != nil || st.TLSDecrypted != 2 || len(rlog.msgs) != 16 {
		t.Errorf("sharded: %d messages, stats %+v, err %v", len(rlog.msgs), st, err)
	}

	// Without secrets blocks, nothing is followed: TLS is dropped as ever.
	plain := dsbCapture(t, []capwriter.Packets{pa, pb}, [][]byte{nil, nil})
	log, st, sst = analyse(t, plain, nil)
	if sst.TLSSecretsBlocks != 0 || st.TLS != 2 || st.TLSWithoutKeys != 0 || log.closed[0].TLS != nil {
		t.Errorf("no secrets: stats %+v source %+v", st, sst)
	}
}

// lockedHandler serialises the events of a sharded run for a handler that
// is not safe for concurrent use.
type lockedHandler struct {
	mu sync.Mutex
	h  Handler
}

func (l *lockedHandler) ConnectionOpened(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h.ConnectionOpened(c)
}

func (l *lockedHandler) Request(c *Conn, m *Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h.Request(c, m)
}

func (l *lockedHandler) Response(c *Conn, req, resp *Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h.Response(c, req, resp)
}

func (l *lockedHandler) ConnectionClosed(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h.ConnectionClosed(c)
}
