package synth

// convHeap is a min-heap of open conversations by the time of their next
// packet, ties broken by conversation id so that the order is
// deterministic. It is hand-written rather than container/heap to keep the
// per-packet path free of interface calls.
type convHeap []*conv

func (h convHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.id < b.id
}

// push adds c.
func (h *convHeap) push(c *conv) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

// pop removes the first conversation.
func (h *convHeap) pop() {
	s := *h
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	*h = s[:n]
	h.fix0()
}

// fix0 restores the order after the first conversation's time grew.
func (h convHeap) fix0() {
	n := len(h)
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
