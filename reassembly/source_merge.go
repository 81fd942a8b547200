package reassembly

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
)

// OpenFiles opens captures for reading in one merged, time-ordered stream.
// "-" means stdin (given at most once). Each file may be pcap or pcapng,
// plain or gzipped, told by its first bytes; a file that cannot be opened
// or is not such a capture fails the call with a *FileError, and no file
// stays open.
//
// Packets of several files are merged by timestamp, ties going to the file
// given first; within a file they keep their order, even when timestamps
// go backwards. Packet.File is the file's index in paths and Packet.Frame
// its frame number in that file, as Wireshark shows it.
//
// A file that begins after another file ended, at most chainGap later,
// follows on from it (a ring buffer's files, or a capture split with
// editcap -c) when no other file is open: its connections go on from
// there. Its packets' Chain names the chain's first file, and their Frame
// counts on from the frames of the chain's files before it
// (SourceStats.Chain and FrameBase; FrameLocator gives each file's own
// numbers back). Files whose names differ only in a ring's numbers (one ring
// buffer's) follow on from each other in the same way while other files
// are open (two hosts' ring buffers given together). A file that begins a
// moment (at most overlapTol) before the file it follows ends is held back
// until that one has ended. Once files overlap in time for longer (two
// hosts' captures), none follows another but by its name (see lane).
//
// Memory: each open file holds a 512 KiB read buffer (two when gzipped,
// and 1 MiB inflated ahead when the run has at most gzipAheadFiles files)
// and, per IP version, at most 64 MiB of fragments awaiting reassembly. A
// run of more than parkFiles files (a ring buffer's hundreds) keeps only
// the files it is reading open (see park).
// The Source is not safe for concurrent use.
func OpenFiles(paths []string, stdin io.Reader) (Source, error) {
	return openMerge(paths, stdin, FileOptions{})
}

// openMerge is OpenFiles with options (OpenFilesWith).
func openMerge(paths []string, stdin io.Reader, opts FileOptions) (*mergeSource, error) {
	if len(paths) == 0 {
		return nil, ErrNoFiles
	}
	m := &mergeSource{paths: paths, newMatcher: opts.NewMatcher, raw: make([]atomic.Pointer[countingReader], len(paths))}
	usedStdin := false
	ahead := len(paths) <= gzipAheadFiles
	for i, p := range paths {
		f, err := openPath(p, i, stdin, &usedStdin, ahead)
		if err == nil && opts.NewMatcher != nil {
			f.match = opts.NewMatcher()
		}
		// Only a regular file (size known) can be opened again: not stdin,
		// a pipe or a FIFO.
		if err == nil && len(paths) > parkFiles && f.closer != nil && f.size >= 0 {
			f, err = park(f)
		}
		if err != nil {
			_ = m.Close()
			return nil, err
		}
		m.files, m.sizes = append(m.files, f), append(m.sizes, f.size)
		m.raw[i].Store(f.raw)
	}
	return m, nil
}

// openPath opens one input of OpenFiles; ahead is openCapture's.
func openPath(path string, index int, stdin io.Reader, usedStdin *bool, ahead bool) (*captureFile, error) {
	if path == "-" {
		if stdin == nil || *usedStdin {
			return nil, &FileError{Path: path, Err: errors.New("standard input given more than once, or not available"), Hint: "name stdin (-) once"}
		}
		*usedStdin = true
		return openCapture(path, index, stdin, nil, ahead)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err, Hint: "check the path and that the file can be read"}
	}
	f, err := openCapture(path, index, fh, fh, ahead)
	if err != nil {
		fh.Close()
		return nil, err
	}
	return f, nil
}

// mergeSource merges the packets of its files by timestamp with a k-way
// merge: a min-heap holds each file's next packet. A file's Packet is
// reused when that file is advanced, which happens on the Next after the
// one that returned it, as the Source contract allows.
type mergeSource struct {
	paths []string
	// newMatcher gives each file its -f filter (FileOptions), a file
	// opened again after park too.
	newMatcher func() *pcapfilter.Matcher
	files      []*captureFile
	// raw and sizes are, by file, the counter of bytes read (the file's
	// raw, which a file opened again replaces) and the size, for Progress,
	// which may run on another goroutine.
	raw     []atomic.Pointer[countingReader]
	sizes   []int64
	heap    []*captureFile // files with a pending packet, heap[0] the earliest
	started bool
	last    *captureFile // the file whose packet Next returned last
	closed  bool
	// all tracks every file, and lanes the files of each name's stem (a
	// ring buffer's, as far as names tell): which file a file that begins
	// follows on from (see lane).
	all   lane
	lanes map[string]*lane
}

// before orders files by their pending packets: time, then file order. A
// file held back until the file before it ended (endsFirst) goes by the
// time it is held until.
func before(a, b *captureFile) bool {
	ta, tb := a.pkt.Time, b.pkt.Time
	if !a.hold.IsZero() {
		ta = a.hold
	}
	if !b.hold.IsZero() {
		tb = b.hold
	}
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.index < b.index
}

// Next returns the earliest pending packet of all files.
func (m *mergeSource) Next() (*Packet, error) {
	if !m.started {
		m.started = true
		for _, f := range m.files {
			if f.parked {
				// Its first packet was read at open (park).
				if !f.done {
					m.heap = append(m.heap, f)
					m.up(len(m.heap) - 1)
				}
				continue
			}
			if err := m.advance(f); err != nil {
				return nil, err
			}
		}
	} else if m.last != nil {
		if err := m.advance(m.last); err != nil {
			return nil, err
		}
	}
	for len(m.heap) > 0 {
		f := m.heap[0]
		if !f.begun && m.endsFirst(f) {
			continue // the file before it, whose last packets go first
		}
		if !f.parked {
			break
		}
		g, err := unpark(f, m.newMatcher)
		if err != nil {
			// Removed or rewritten since the run opened it (a ring
			// buffer that deletes its oldest files): the report goes
			// on without it, and says so.
			r := skipped(f, err)
			m.files[f.index] = r
			m.raw[f.index].Store(r.raw)
			m.pop()
			continue
		}
		m.files[g.index], m.heap[0] = g, g
		m.raw[g.index].Store(g.raw)
	}
	if len(m.heap) == 0 {
		m.last = nil
		return nil, io.EOF
	}
	f := m.heap[0]
	m.last = f
	if !f.begun {
		m.begin(f)
	}
	f.last = f.pkt.Time
	return &f.pkt, nil
}

// begin notes that f's first packet is next, and makes f follow on from
// the file it continues, if any (lane.follows): a chain of files that
// together are one capture.
func (m *mergeSource) begin(f *captureFile) {
	f.begun, f.hold = true, time.Time{}
	l := m.lane(f)
	m.all.begin(f)
	l.begin(f)
	prev := l.follows(f)
	if prev == nil {
		// Across lanes, only after the last file of its lane: a capture
		// named otherwise must not take a ring's boundary from the
		// ring's next file.
		prev = m.all.follows(f)
		if prev != nil && m.waits(prev.stem, nil) {
			prev = nil
		}
	}
	if prev != nil {
		prev.followed = true
		f.chain, f.frameBase = prev.chain, prev.frameBase+prev.frame
		f.pkt.Chain, f.pkt.Frame = f.chain, f.pkt.Frame+f.frameBase // read before it was known
	}
}

// advance reads f's next packet and puts f back in the heap, or leaves it
// out at the end of the file. f is either heap[0] (the file just returned)
// or not in the heap yet (start).
func (m *mergeSource) advance(f *captureFile) error {
	inHeap := len(m.heap) > 0 && m.heap[0] == f
	_, err := f.next()
	switch {
	case err == nil && inHeap:
		m.down(0)
	case err == nil:
		m.heap = append(m.heap, f)
		m.up(len(m.heap) - 1)
	case err == io.EOF && inHeap:
		r := retire(f)
		m.files[f.index] = r
		m.all.end(r)
		m.lane(r).end(r)
		m.pop()
	case err == io.EOF:
		m.files[f.index] = retire(f) // no packet at all
	case err != io.EOF:
		return err
	}
	return nil
}

// pop removes heap[0].
func (m *mergeSource) pop() {
	n := len(m.heap) - 1
	m.heap[0] = m.heap[n]
	m.heap[n] = nil
	m.heap = m.heap[:n]
	if n > 0 {
		m.down(0)
	}
}

// up and down restore the heap order after heap[i] changed. Hand-written
// rather than container/heap, whose interface calls cost on every packet.
func (m *mergeSource) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !before(m.heap[i], m.heap[p]) {
			return
		}
		m.heap[i], m.heap[p] = m.heap[p], m.heap[i]
		i = p
	}
}

func (m *mergeSource) down(i int) {
	n := len(m.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && before(m.heap[r], m.heap[l]) {
			c = r
		}
		if !before(m.heap[c], m.heap[i]) {
			return
		}
		m.heap[i], m.heap[c] = m.heap[c], m.heap[i]
		i = c
	}
}

// Stats returns the counts of all files so far, summed.
func (m *mergeSource) Stats() SourceStats {
	s := SourceStats{Files: append([]string(nil), m.paths...)}
	if len(m.files) > 1 {
		s.Chain, s.FrameBase = make([]int, len(m.files)), make([]int64, len(m.files))
	}
	for i, f := range m.files {
		if s.Chain != nil {
			s.Chain[i], s.FrameBase[i] = f.chain, f.frameBase
		}
		fs := f.statsNow()
		s.Packets += fs.Packets
		s.Bytes += fs.Bytes
		s.TCP += fs.TCP
		s.NonTCP += fs.NonTCP
		s.Malformed += fs.Malformed
		s.Truncated += fs.Truncated
		s.Fragments += fs.Fragments
		s.FragmentsReassembled += fs.FragmentsReassembled
		s.Tunnelled += fs.Tunnelled
		s.UnknownLinkType += fs.UnknownLinkType
		s.CorruptRecords += fs.CorruptRecords
		s.Filtered += fs.Filtered
		s.TLSSecretsBlocks += fs.TLSSecretsBlocks
		if !fs.FirstSeen.IsZero() && (s.FirstSeen.IsZero() || fs.FirstSeen.Before(s.FirstSeen)) {
			s.FirstSeen = fs.FirstSeen
		}
		if fs.LastSeen.After(s.LastSeen) {
			s.LastSeen = fs.LastSeen
		}
		s.Warnings = append(s.Warnings, fs.Warnings...)
	}
	return s
}

// ProgressReporter is implemented by the Source that OpenFiles returns, so
// that a command can show how far through its files a long run has got.
type ProgressReporter interface {
	// Progress returns the bytes of the files read so far and their
	// total size. Bytes are those of the files as stored (compressed ones
	// for a gzipped file), counted as they enter the read buffers, so
	// read runs up to a buffer or two (and a gzipped file's data inflated
	// ahead) ahead of the packets Next returned.
	// total is 0 when unknown: when an input is a pipe or stdin not
	// redirected from a file.
	//
	// Progress is safe to call from any goroutine, also while another
	// one calls Next, and after Close.
	Progress() (read, total int64)
}

// Progress implements ProgressReporter. It reads m.sizes, set once by
// OpenFiles, and the counters in m.raw, never m.files, which Next changes
// (park, unpark, retire).
func (m *mergeSource) Progress() (read, total int64) {
	known := true
	for i, size := range m.sizes {
		read += m.raw[i].Load().n.Load()
		if size < 0 {
			known = false
		}
		total += size
	}
	if !known {
		total = 0
	}
	return read, total
}

// Close closes every file; stdin is left open. Next then says io.EOF and
// Stats keeps the counts.
func (m *mergeSource) Close() error {
	if m.closed {
		return nil
	}
	m.closed, m.started = true, true
	m.heap, m.last = nil, nil
	var errs []error
	for _, f := range m.files {
		errs = append(errs, f.close())
	}
	return errors.Join(errs...)
}
