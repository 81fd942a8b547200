package synth

// Directions of a step.
const (
	fromClient = 0
	fromServer = 1
)

// step is one scripted packet of a conversation.
type step struct {
	dt    int64  // ns after the conversation's previous packet
	off   uint32 // payload offset in the arena
	n     uint32 // payload length
	dir   uint8
	flags uint8
}

// conv is one conversation: its endpoints, the script of its packets and
// their payload bytes, and where emission stands. Convs are recycled: the
// slices keep their capacity across conversations.
type conv struct {
	id       uint64
	cli, srv endpoint
	udp      bool
	mss      int
	steps    []step
	arena    []byte
	next     int   // index of the next step to emit
	at       int64 // capture time of steps[next], ns
	seq      [2]uint32
	ipID     [2]uint16
	ttl      [2]uint8
	win      [2]uint16
	pending  int64 // delay to put before the next scripted packet
	clock    int64 // capture time of the last scripted packet, ns
	size     int64 // bytes the scripted packets take in the file
}

// reset prepares c for a new conversation starting at capture time at.
func (c *conv) reset(id uint64, at int64) {
	c.id = id
	c.at, c.clock = at, at
	c.udp = false
	c.steps = c.steps[:0]
	c.arena = c.arena[:0]
	c.next = 0
	c.pending = 0
	c.size = 0
}

// release drops buffers that a large conversation grew, so that the pool
// of recycled convs does not keep the largest of each forever: memory stays
// bounded by the conversations open at once, not by the biggest ones seen.
func (c *conv) release() {
	if cap(c.arena) > 64<<10 {
		c.arena = nil
	}
	if cap(c.steps) > 1024 {
		c.steps = nil
	}
}

// add scripts one packet: after the pending delay, dir sends the payload
// arena[off:off+n] with flags.
func (c *conv) add(dir uint8, flags uint8, off, n int) {
	c.steps = append(c.steps, step{dt: c.pending, off: uint32(off), n: uint32(n), dir: dir, flags: flags})
	c.clock += c.pending
	c.pending = 0
	c.size += int64(epbSize(c.headerLen(flags) + n))
}

// headerLen is the length of the headers encodeHeader writes for a packet
// of c with flags.
func (c *conv) headerLen(flags uint8) int {
	n := 14 + 20
	if !c.cli.addr.Is4() {
		n = 14 + 40
	}
	switch {
	case c.udp:
		return n + 8
	case flags&flagSYN != 0:
		return n + 24
	}
	return n + 20
}

// wait adds d ns before the next scripted packet.
func (c *conv) wait(d int64) { c.pending += d }

// open scripts the three-way handshake; the capture point is next to the
// server, so the SYN-ACK follows the SYN at once and the client's ACK one
// round trip later.
func (c *conv) open(rtt int64) {
	c.add(fromClient, flagSYN, 0, 0)
	c.wait(40_000)
	c.add(fromServer, flagSYN|flagACK, 0, 0)
	c.wait(rtt)
	c.add(fromClient, flagACK, 0, 0)
}

// send scripts dir sending arena[from:to] in segments of at most the MSS,
// the last one pushed. A receiver acknowledges every second full segment,
// as delayed ACK does.
func (c *conv) send(dir uint8, from, to int, pace int64) {
	full := 0
	for off := from; off < to; {
		n := min(c.mss, to-off)
		flags := uint8(flagACK)
		if off+n == to {
			flags |= flagPSH
		}
		c.add(dir, flags, off, n)
		off += n
		if off < to {
			full++
			if full%2 == 0 {
				c.wait(pace / 2)
				c.add(1-dir, flagACK, 0, 0)
			}
			c.wait(pace)
		}
	}
}

// close scripts an orderly close started by dir: FIN, the peer's FIN, the
// last ACK.
func (c *conv) close(dir uint8, rtt int64) {
	c.add(dir, flagFIN|flagACK, 0, 0)
	if dir == fromClient {
		c.wait(60_000)
	} else {
		c.wait(rtt)
	}
	c.add(1-dir, flagFIN|flagACK, 0, 0)
	if dir == fromClient {
		c.wait(rtt)
	} else {
		c.wait(60_000)
	}
	c.add(dir, flagACK, 0, 0)
}

// done reports whether every step was emitted.
func (c *conv) done() bool { return c.next >= len(c.steps) }

// emit writes the next step at c.at and advances to the one after.
func (c *conv) emit(w *pcapngWriter, hdr *[maxHeader]byte) {
	st := &c.steps[c.next]
	d := st.dir
	src, dst := &c.cli, &c.srv
	if d == fromServer {
		src, dst = dst, src
	}
	s := segment{udp: c.udp, flags: st.flags, seq: c.seq[d], window: c.win[d], ipID: c.ipID[d], ttl: c.ttl[d], n: int(st.n)}
	if st.flags&flagACK != 0 {
		s.ack = c.seq[1-d]
	}
	c.ipID[d]++
	payload := c.arena[st.off : st.off+st.n]
	w.packet(c.at, encodeHeader(hdr, src, dst, &s, payload), payload)
	c.seq[d] += st.n
	if st.flags&(flagSYN|flagFIN) != 0 {
		c.seq[d]++
	}
	c.next++
	if c.next < len(c.steps) {
		c.at += c.steps[c.next].dt
	}
}
