package reassembly

import (
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Which RST ends a connection.
//
// An endpoint that resets a connection sends a RST whose sequence number
// is where its own bytes end (SND.NXT), and sends nothing more on it. A
// receiver accepts a RST only at exactly that number (RFC 5961 §3: a RST
// elsewhere in the window draws a challenge ACK, one outside it is
// dropped), so a RST at another number may not have ended anything: a
// middlebox's forged RST, or a stale one, that both endpoints ignored
// while the connection went on. Ending the connection there would drop
// the rest of its exchanges as late packets, and a handshake cut short by
// a RST that changed nothing reads as a balancer closing connections.
//
// So a RST at the sequence number where its sender's captured bytes end
// (or at its FIN's own number, or from a side whose bytes were never
// seen) ends the connection at once, as before. Any other RST is suspect:
// it is recorded (FIN/RST frames, close time), its payload is dropped, and
// the connection stays open for resetGrace of capture time. New bytes from
// the RST's sender in that time refute it, as no endpoint sends after its
// own RST: the record is undone and the connection goes on; bytes that
// end exactly at the RST say the capture put it before its sender's last
// segment, and the connection ends there. Otherwise the connection ends with EndRST at the
// first flush after the grace (or earlier, when it is replaced, evicted
// or the capture ends). A genuine RST that is inexact only because the
// capture lost its sender's last bytes, or because it answers a segment
// with an old ACK, therefore ends the connection as before, resetGrace
// later. Zeek waits for the same reason (tcp_reset_delay, 5 s).

// resetGrace is how long a connection outlives a suspect RST, waiting
// for its sender to refute it.
const resetGrace = 5 * time.Second

// suspectReset is a suspect RST of one tuple side.
type suspectReset struct {
	pending bool
	at      time.Time // capture time of the RST
	// recorded says the RST was written into Conn's RSTFrame (frame, for
	// direction dir); closed that it set Conn.CloseTime[dir] too.
	recorded, closed bool
	dir              Direction
	frame            int64
	seq              uint32 // the RST's sequence number
}

// suspectConn is a connection waiting out a suspect RST, as the
// reassembler lists it; reuses tells a recycled connState apart.
type suspectConn struct {
	cs     *connState
	reuses uint32
}

// noteSent advances where the bytes of tuple side end (a SYN and a FIN
// count one), from tcp, a segment of that side that is not a RST. It
// reports settled when the segment ends exactly where the side's suspect
// RST is: the capture put the RST before its sender's last bytes, and the
// RST was exact after all. Other new bytes after a suspect RST refute it.
// (Two or more segments reordered after a RST refute it too: a capture
// reorders one sender's packets rarely, and a RST that changed nothing
// is rare too; neither is worth a guess.)
func (cs *connState) noteSent(side int, tcp *layers.TCP, missing int) (settled bool) {
	end := tcp.Seq + uint32(len(tcp.Payload)+missing)
	if tcp.SYN {
		end++
	}
	if tcp.FIN {
		end++
	}
	advances := !cs.sentKnown[side] || int32(end-cs.sent[side]) > 0
	switch {
	case tcp.SYN && (!cs.sentKnown[side] || cs.sentSYN[side]) || !tcp.SYN && cs.sentSYN[side]:
		// A SYN while the side sent nothing else (a second SYN-ACK
		// may bring another ISN), or the first segment after its
		// SYNs, says where its bytes end, whichever ISN counts (see
		// halfState.synOnly).
		cs.sentSYN[side] = tcp.SYN
	case !advances:
		return false
	}
	cs.sent[side], cs.sentKnown[side] = end, true
	if advances && !tcp.SYN && cs.suspect != nil && cs.suspect[side].pending {
		if end == cs.suspect[side].seq {
			return true
		}
		cs.refuteReset(side)
	}
	return false
}

// exactReset reports whether a RST of tuple side with sequence number seq
// is one its sender's endpoint sent: at where the side's bytes end, at
// its FIN's own number (a RST whose number was taken from an ACK that had
// not covered the FIN yet), or from a side never seen sending.
func (cs *connState) exactReset(side int, seq uint32) bool {
	return !cs.sentKnown[side] || seq == cs.sent[side] || cs.fin[side] && seq == cs.sent[side]-1
}

// suspectRST records p, an inexact RST of tuple side (see exactReset), as
// suspect. recorded says process wrote it into the Conn (for direction
// dir), closed that it set the direction's close time.
func (cs *connState) suspectRST(side int, p *Packet, recorded, closed bool, dir Direction) {
	if cs.suspect == nil {
		cs.suspect = new([2]suspectReset)
		cs.r.suspects = append(cs.r.suspects, suspectConn{cs, cs.reuses})
	}
	if cs.suspect[side].pending {
		return // the first one waits; a second one of the side changes nothing
	}
	cs.suspect[side] = suspectReset{pending: true, at: p.Time, recorded: recorded, closed: closed, dir: dir, frame: p.Frame, seq: p.TCP.Seq}
}

// refuteReset undoes the suspect RST of tuple side: its sender went on.
func (cs *connState) refuteReset(side int) {
	s := &cs.suspect[side]
	if s.recorded {
		c := cs.conn
		if c.RSTFrame[s.dir] == s.frame {
			c.RSTFrame[s.dir] = 0
		}
		if s.closed {
			c.CloseTime[s.dir] = time.Time{}
		}
	}
	*s = suspectReset{}
	cs.r.stats.RefutedResets++
}

// resetPending reports whether a suspect RST still waits, and since when
// (the earliest).
func (cs *connState) resetPending() (time.Time, bool) {
	if cs.suspect == nil {
		return time.Time{}, false
	}
	var at time.Time
	pending := false
	for _, s := range cs.suspect {
		if s.pending && (!pending || s.at.Before(at)) {
			at, pending = s.at, true
		}
	}
	return at, pending
}

// endSuspects ends, with EndRST, the connections whose suspect RST was not
// refuted within resetGrace of at, and forgets the finished ones.
func (r *Reassembler) endSuspects(at time.Time) {
	kept := r.suspects[:0]
	for _, s := range r.suspects {
		cs := s.cs
		if cs.reuses != s.reuses || cs.finalized {
			continue
		}
		since, pending := cs.resetPending()
		if !pending {
			cs.suspect = nil // refuted: a later suspect RST lists it again
			continue
		}
		if at.Sub(since) >= resetGrace {
			cs.finalize(EndRST)
			continue
		}
		kept = append(kept, s)
	}
	clear(r.suspects[len(kept):])
	r.suspects = kept
}

// ResetWarnings says, for the user's warnings, how many RSTs ended
// nothing: a device on the path that forges RSTs the endpoints ignore is
// worth knowing of when logins through it misbehave.
func ResetWarnings(st StreamStats) []string {
	if st.RefutedResets == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d RST(s) did not end their connection: they were not at the sequence number where "+
		"their sender's bytes ended, and the sender went on (a device on the path forged them, or they were stale); "+
		"the connections were followed past them", st.RefutedResets)}
}
