package analyzer

import (
	"runtime"
	"sync"
)

// A division divides a list of n items into parts that goroutines work
// on side by side (each): part k holds items [k*n/parts, (k+1)*n/parts).
// Callers that keep a result per part size their slices by parts.
type division struct{ n, parts int }

// divide divides n items into one part per processor, but none smaller
// than least items (partsOverride, when set, instead).
func divide(n, least int) division {
	if partsOverride > 0 {
		return division{n, max(1, min(partsOverride, n))}
	}
	return division{n, max(1, min(runtime.GOMAXPROCS(0), n/least))}
}

// each calls fn for every part, each on a goroutine of its own, with the
// part's number k and its items [lo, hi), and returns once all have
// returned.
func (dv division) each(fn func(k, lo, hi int)) {
	var wg sync.WaitGroup
	for k := range dv.parts {
		wg.Go(func() { fn(k, k*dv.n/dv.parts, (k+1)*dv.n/dv.parts) })
	}
	wg.Wait()
}

// partsOverride, when positive, is how many parts divide makes, however
// few the items: tests set it to divide small inputs.
var partsOverride int
