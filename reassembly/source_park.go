package reassembly

import (
	"errors"
	"fmt"
	"io"

	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
)

// A ring buffer's files come by the hundred: held open together, each with
// its read buffer (512 KiB), they would take hundreds of megabytes and as
// many file descriptors, though only one is read at a time. A run of more
// than parkFiles files reads each file's first packet when it opens it,
// which the merge orders files by, and closes it until that packet's turn
// comes (park); the file is then opened again and read from its start
// (unpark). Standard input, pipes and FIFOs cannot be opened again, and
// stay open. A file read to its end is closed too (retire); one that
// cannot be opened again at its turn is skipped with a warning (skipped).

// parkFiles is the most files a run holds open from the start.
const parkFiles = 16

// park reads f's first packet and returns a parked stand-in for f, closed:
// it holds what the merge orders files by (the packet's time), what Stats
// reports (the counts so far, the embedded key log) and what unpark needs.
// A file without a packet is parked done.
func park(f *captureFile) (*captureFile, error) {
	defer f.close()
	p, err := f.next()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	q := f.standIn()
	q.parked = true
	if err != nil {
		q.done = true // read whole: its bytes count as read
	} else {
		q.raw = &countingReader{} // read again from the start at unpark
		// What the merge reads of the first packet (before, endsFirst).
		q.pkt.Time, q.pkt.TCP.SYN = p.Time, p.TCP.SYN
	}
	return q, nil
}

// standIn returns a copy of what the run reads of f once its reading is
// set aside (park) or over (retire): its place in the merge and in a
// chain, its counts, its byte counter and size, its filter's and key
// log's warnings; not its reader, buffers or descriptor.
func (f *captureFile) standIn() *captureFile {
	return &captureFile{
		path: f.path, stem: f.stem, index: f.index, chain: f.chain, frameBase: f.frameBase, begun: f.begun, last: f.last,
		size: f.size, raw: f.raw, frame: f.frame, stats: f.stats, match: f.match,
		secrets: secretsScan{keys: f.secrets.keys}, unknown: f.unknown,
	}
}

// unpark opens a parked file again and reads up to its first packet, which
// must be the one park read; its filter is a new one (newMatcher, when
// set), its embedded key log the one the run was given.
func unpark(q *captureFile, newMatcher func() *pcapfilter.Matcher) (*captureFile, error) {
	used := false
	g, err := openPath(q.path, q.index, nil, &used, false)
	if err != nil {
		return nil, err
	}
	if newMatcher != nil {
		g.match = newMatcher()
	}
	// The secrets before the first packet went into the run's key log
	// when park read them: read again, they go to the file's own, which
	// is dropped; those after it, to the run's.
	p, err := g.next()
	if q.secrets.keys != nil && g.secrets.keys != nil {
		g.secrets.keys = q.secrets.keys
	}
	if err == nil && (g.frame != q.frame || !p.Time.Equal(q.pkt.Time)) {
		err = &FileError{Path: q.path, Err: fmt.Errorf("frame %d is not the packet read at the start", g.frame),
			Hint: "the file changed while it was being read: analyse a copy that no capture is writing to"}
	}
	if err != nil {
		g.close()
		if errors.Is(err, io.EOF) {
			err = &FileError{Path: q.path, Err: errors.New("the file lost its packets while it was being read"),
				Hint: "analyse a copy that no capture is writing to"}
		}
		return nil, err
	}
	return g, nil
}

// retire closes f, read to its end, and returns a stand-in that keeps what
// the run still reads of it (its counts, its place in a chain) without its
// read buffers and descriptor: a run over a ring buffer's hundreds of
// files holds only the ones it is reading.
func retire(f *captureFile) *captureFile {
	f.close()
	r := f.standIn()
	r.done = true
	return r
}

// skipped returns the stand-in of a parked file that could not be opened
// again (err): it counts nothing, as nothing of it was analysed, and warns.
func skipped(q *captureFile, err error) *captureFile {
	r := &captureFile{path: q.path, index: q.index, chain: q.index, size: q.size, raw: &countingReader{}, done: true}
	r.raw.n.Store(max(q.size, 0)) // nothing more to read
	r.stats.Warnings = []string{fmt.Sprintf("%v: the file was skipped, its packets are not in the report", err)}
	return r
}
