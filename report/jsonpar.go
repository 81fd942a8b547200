package report

import (
	"runtime"
	"sync"
)

// The JSON format builds and encodes the connections on every core: for
// a large capture they are most of the rendering time, and building one
// (the analyzer's report of a connection) costs more than encoding it, so
// both run in parallel. The connections are cut into runs of connChunk;
// workers take runs in order, each builds and encodes its run into a
// buffer of its own, and the writer writes the buffers in order. At most
// a few runs per worker are in flight, so memory stays bounded by the
// run size, not by the report.

// connChunk is how many connections a worker builds and encodes at a
// time: enough that handing runs around costs nothing next to building
// them, few enough that the runs in flight stay small (some 3 KB of JSON
// each).
const connChunk = 128

// connRun is a run of connections, positions lo to hi-1 of the id order,
// and once done is closed, their JSON (or the first encoding error, with
// the JSON of the connections before it).
type connRun struct {
	lo, hi int
	b      []byte
	err    error
	done   chan struct{}
}

// connectionWorkers returns how many goroutines build and encode the
// connections of m: 1 (write them in the caller, one at a time) when
// parallel work cannot pay or is not safe.
func connectionWorkers(m *model, n int) int {
	if !m.concurrentScrub() || n <= connChunk {
		return 1
	}
	return min(runtime.GOMAXPROCS(0), (n+connChunk-1)/connChunk)
}

// connectionsParallel writes the n connections of m as the elements of
// the connections array, from its opening bracket to its last element,
// built and encoded by workers goroutines.
func (j *jsonWriter) connectionsParallel(m *model, n, workers int, chunk int) {
	j.raw("[")
	j.space("\n    ")
	stop := make(chan struct{})
	jobs := make(chan *connRun)
	order := make(chan *connRun, 2*workers)
	free := make(chan []byte, 4*workers) // buffers to reuse
	go func() {
		defer close(jobs)
		defer close(order)
		for lo := 0; lo < n; lo += chunk {
			r := &connRun{lo: lo, hi: min(lo+chunk, n), done: make(chan struct{})}
			select {
			case r.b = <-free:
			default:
			}
			// The writer learns of the run before any worker does, so it
			// always waits on the earliest run not yet written.
			select {
			case order <- r:
			case <-stop:
				return
			}
			select {
			case jobs <- r:
			case <-stop:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := jsonEnc{indent: !j.compact}
			for r := range jobs {
				encodeRun(&e, m, r)
				close(r.done)
			}
		}()
	}
	defer wg.Wait()
	defer close(stop) // before wg.Wait: it stops the producer, whose end stops the workers
	for r := range order {
		<-r.done
		if j.err == nil {
			_, j.err = j.w.Write(r.b)
		}
		if j.err == nil {
			j.err = r.err
		}
		if j.err != nil {
			return
		}
		select {
		case free <- r.b[:0]:
		default:
		}
	}
}

// encodeRun encodes r's connections into r.b, each but the report's first
// after the separator of array elements, in e's layout (e.indent).
func encodeRun(e *jsonEnc, m *model, r *connRun) {
	e.b = r.b[:0]
	i := r.lo
	for c := range m.connectionsIn(r.lo, r.hi) {
		e.depth, e.err = 2, nil
		if i > 0 {
			e.b = append(e.b, ',')
			e.newline()
		}
		n := len(e.b)
		e.connection(c)
		if e.err != nil {
			r.b, r.err = e.b[:n], e.err
			return
		}
		i++
	}
	r.b = e.b
}
