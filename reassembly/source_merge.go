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
// A file whose first packet comes after the last packet of every file
// begun before it (or at most overlapTol before the last packets of the
// one file open: its packets then go first), and at most chainGap after
// the one that ended last, follows on from that one (a ring buffer's files, or a capture split with
// editcap): its connections go on from there. Its packets' Chain names the
// chain's first file, and their Frame counts on from the frames of the
// chain's files before it (SourceStats.Chain and FrameBase; FrameLocator
// gives each file's own numbers back). Once two files overlap in time for
// longer than overlapTol (two hosts' captures), none follows another.
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
	// open counts the files begun (a packet returned) and not ended;
	// ended is the file that ended last: the next file to begin follows
	// it when none is open (begin), unless files were ever open side by
	// side (parallel: captures taken side by side, whose next files could
	// follow either). Two files open together for at most overlapTol (the
	// next file's first packet stamped a moment before the last of the
	// one before) are not side by side: overlapAt is when the second
	// began.
	open      int
	ended     *captureFile
	endedAt   time.Time // the time of ended's last packet
	parallel  bool
	overlapAt time.Time
}

// before orders files by their pending packets: time, then file order; a
// file drained before the next begins (endsFirst) goes first.
func before(a, b *captureFile) bool {
	if a.drain != b.drain {
		return a.drain
	}
	if !a.pkt.Time.Equal(b.pkt.Time) {
		return a.pkt.Time.Before(b.pkt.Time)
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

// chainGap is the longest pause between two files that follow each other:
// a ring buffer starts its next file with the next packet, a moment after
// the last one. Captures taken on two hosts that merely do not overlap in
// time (their clocks apart by more than either lasted) are not one
// capture: a connection seen in both would be taken for its own
// retransmissions.
const chainGap = 10 * time.Second

// overlapTol is the longest two files may overlap and still follow each
// other: packets received on several queues may be stamped a little out of
// order, so a ring buffer's next file can start a moment before the last
// packet of the one before. The file before is then read ahead to its end
// (endsFirst), and the next follows on from it. Two files open together
// for longer are side by side.
const overlapTol = 100 * time.Millisecond

// begin notes that f's first packet is next. When every file begun before
// has ended, the last one at most chainGap before, and no two files were
// ever open at once, f follows on from the one that ended last: a chain of
// files that together are one capture.
func (m *mergeSource) begin(f *captureFile) {
	f.begun = true
	m.open++
	switch m.open {
	case 1:
	case 2:
		m.overlapAt = f.pkt.Time // parallel unless the other ends soon
	default:
		m.parallel = true
	}
	if m.open == 1 && m.ended != nil && !m.parallel && f.pkt.Time.Sub(m.endedAt) <= chainGap {
		prev := m.ended
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
		m.open--
		r := retire(f)
		m.files[f.index] = r
		if m.open == 1 && r.last.Sub(m.overlapAt) > overlapTol {
			m.parallel = true // two files side by side, not a moment's overlap
		}
		m.ended, m.endedAt = r, r.last
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
