// Package freelist keeps values for reuse: a list bounded by its caller,
// last in first out. The reassembler recycles its connections, tracker
// entries and HTTP messages through such lists, the analyzer its live
// connection states and exchange chunks.
package freelist

// List keeps values for reuse, the last put coming back first (the
// likeliest to be in the processor's caches). The zero value is an empty
// list. It is not safe for concurrent use.
type List[T any] struct {
	items []T
}

// Get returns the value put last and true, or the zero value and false
// when the list is empty.
func (l *List[T]) Get() (T, bool) {
	var zero T
	n := len(l.items)
	if n == 0 {
		return zero, false
	}
	v := l.items[n-1]
	l.items[n-1] = zero // what the list no longer holds, it keeps no reference to
	l.items = l.items[:n-1]
	return v, true
}

// Put keeps v for a later Get, unless the list holds max values already:
// v is then dropped, for the garbage collector.
func (l *List[T]) Put(v T, max int) {
	if len(l.items) < max {
		l.items = append(l.items, v)
	}
}

// Len returns the number of values kept.
func (l *List[T]) Len() int { return len(l.items) }
