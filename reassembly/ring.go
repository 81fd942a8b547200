package reassembly

// ring is a FIFO queue on a growable circular buffer: pushes and pops
// allocate nothing once it has grown to its working size.
type ring[T any] struct {
	buf  []T
	head int // index of the front item
	n    int // items queued
}

func (q *ring[T]) len() int { return q.n }

// front returns the oldest item; the queue must not be empty.
func (q *ring[T]) front() T { return q.buf[q.head] }

// pop removes the oldest item; the queue must not be empty.
func (q *ring[T]) pop() {
	var zero T
	q.buf[q.head] = zero
	q.head++
	if q.head == len(q.buf) {
		q.head = 0
	}
	q.n--
}

// push appends v, doubling the buffer when full.
func (q *ring[T]) push(v T) {
	if q.n == len(q.buf) {
		grown := make([]T, max(16, 2*len(q.buf)))
		k := copy(grown, q.buf[q.head:])
		copy(grown[k:], q.buf[:q.head])
		q.buf, q.head = grown, 0
	}
	i := q.head + q.n
	if i >= len(q.buf) {
		i -= len(q.buf)
	}
	q.buf[i] = v
	q.n++
}
