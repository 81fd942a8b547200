package reassembly

import "testing"

// TestReassemblerFastOpen checks TCP Fast Open: a request on the client's
// SYN is delivered once, whether the server takes it (its SYN-ACK
// acknowledges it) or refuses it (the client sends it again after the
// handshake), and a retransmitted SYN does not deliver it twice.
func TestReassemblerFastOpen(t *testing.T) {
	for _, c := range []struct {
		name                       string
		accepted, synRetransmitted bool
	}{
		{"accepted", true, false},
		{"refused, sent again", false, false},
		{"SYN retransmitted", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newScript()
			cv := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
			s.add(cv.client, cv.server, cv.cseq, 0, "S", getReq)
			if c.synRetransmitted {
				s.add(cv.client, cv.server, cv.cseq, 0, "S", getReq)
			}
			cv.cseq++
			if c.accepted {
				s.add(cv.server, cv.client, cv.sseq, cv.cseq+uint32(len(getReq)), "SA", "")
				cv.sseq++
				cv.cseq += uint32(len(getReq))
				s.add(cv.client, cv.server, cv.cseq, cv.sseq, "A", "")
			} else {
				s.add(cv.server, cv.client, cv.sseq, cv.cseq, "SA", "")
				cv.sseq++
				s.add(cv.client, cv.server, cv.cseq, cv.sseq, "A", "")
				cv.send(true, getReq, 1460)
			}
			cv.send(false, okResp, 1460)
			cv.send(true, getReqB, 1460)
			cv.send(false, okResp, 1460)
			cv.close()
			rec := s.run(t)
			assertShortEvents(t, rec, []string{
				"req 0 GET /a", "resp 0 200 for=/a", "req 0 GET /b", "resp 0 200 for=/b", "close 0 fin",
			})
			if g := rec.closed[0].Gaps; g != [2]int{} {
				t.Errorf("gaps %v", g)
			}
		})
	}
}
