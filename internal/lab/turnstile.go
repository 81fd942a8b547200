package lab

import "sync"

// Turnstile makes concurrent clients take turns, one request each, in a
// fixed order: the interleaving of their requests, and so what a balancer
// does with them, is then the same on every run. Each client keeps its own
// connections open meanwhile, so they are concurrent clients as a balancer
// sees them. A nil *Turnstile lets everyone through at once.
type Turnstile struct {
	mu     sync.Mutex
	cond   *sync.Cond
	order  []string
	active map[string]bool
	turn   int
}

// NewTurnstile returns a turnstile whose turns go round names in order,
// starting with the first.
func NewTurnstile(names ...string) *Turnstile {
	t := &Turnstile{order: names, active: map[string]bool{}}
	t.cond = sync.NewCond(&t.mu)
	for _, n := range names {
		t.active[n] = true
	}
	return t
}

// Enter blocks until it is name's turn. A name that is not (or no longer)
// taking part goes through at once rather than wait forever.
func (t *Turnstile) Enter(name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.active[name] && t.order[t.turn] != name {
		t.cond.Wait()
	}
}

// Pass ends name's turn: the next participant still taking part goes.
func (t *Turnstile) Pass(name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.order[t.turn] == name {
		t.advance()
	}
}

// Leave takes name out of the rotation (it has no more requests); if it
// held the turn, the turn passes on.
func (t *Turnstile) Leave(name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.active[name] = false
	if t.order[t.turn] == name {
		t.advance()
	}
}

// advance moves the turn to the next active participant; with none left
// it stays where it is. The caller holds mu.
func (t *Turnstile) advance() {
	for i := 1; i <= len(t.order); i++ {
		next := (t.turn + i) % len(t.order)
		if t.active[t.order[next]] {
			t.turn = next
			break
		}
	}
	t.cond.Broadcast()
}
