package reassembly

import (
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Which file follows on from which (a chain of files that together are one
// capture) is decided as files begin, from their times alone: the reading
// is one pass, and a file's last packet is known only when it ends.
//
// A file follows the file that ended last when no other file is open, none
// ever was for long (captures side by side, whose next files could follow
// either), and the pause between them is short (chainGap). That holds for
// all files together (mergeSource.all) and, so that two hosts' ring
// buffers given together each form their own chain, for the files of one
// name's stem (a lane, see nameStem): a ring buffer's files are named
// alike, differing only in their numbers at the end (dumpcap's
// name_00001_20240311080000.pcapng, tcpdump -C's name, name1, name2,
// editcap's), and two hosts' captures, made by hand, rarely are. A file
// follows within its lane first, and across lanes only as all files
// together allow, and only the last file of its lane: a ring's next file
// is about to begin.

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
// packet of the one before. The next file is then held back until the one
// before has ended (endsFirst), and follows on from it. Two files open
// together for longer are side by side.
const overlapTol = 100 * time.Millisecond

// A lane follows a set of files as they begin and end: open counts those
// begun and not ended; ended is the one that ended last, endedAt the time
// of its last packet. parallel says files of the lane were open side by
// side: two for longer than overlapTol (overlapAt is when the second of
// two began), or three at once.
type lane struct {
	open      int
	ended     *captureFile
	endedAt   time.Time
	parallel  bool
	overlapAt time.Time
}

// begin notes that f, a file of the lane, begins.
func (l *lane) begin(f *captureFile) {
	l.open++
	switch l.open {
	case 1:
	case 2:
		l.overlapAt = f.pkt.Time // parallel unless the other ends soon
	default:
		l.parallel = true
	}
}

// end notes that r, the stand-in of a file of the lane, ended.
func (l *lane) end(r *captureFile) {
	l.open--
	if l.open == 1 && r.last.Sub(l.overlapAt) > overlapTol {
		l.parallel = true // two files side by side, not a moment's overlap
	}
	l.ended, l.endedAt = r, r.last
}

// follows returns the file f, which begins (begin was called), follows on
// from in the lane, or nil: the one that ended last, when f is the only
// one open, no files of the lane were side by side, the one before has no
// successor yet, and f begins at most chainGap after it ended.
func (l *lane) follows(f *captureFile) *captureFile {
	if l.open != 1 || l.ended == nil || l.parallel || l.ended.followed || f.pkt.Time.Sub(l.endedAt) > chainGap {
		return nil
	}
	return l.ended
}

// lane returns the lane of f's stem.
func (m *mergeSource) lane(f *captureFile) *lane {
	l := m.lanes[f.stem]
	if l == nil {
		if m.lanes == nil {
			m.lanes = map[string]*lane{}
		}
		l = &lane{}
		m.lanes[f.stem] = l
	}
	return l
}

// nameStem is the path without what tells a ring buffer's files apart,
// so that the files of one ring share it and two hosts' rings do not:
//   - dumpcap's and editcap's _00001_20240311080000 before the extensions
//     (letters only: .pcapng, .gz), whatever comes before it (web-01,
//     ip-10-0-0-5);
//   - else the numbers at the end of the name, before its extensions, each
//     led by a separator (a tcpdump -G time: -20240311-0800,
//     _2024-03-11_08:00:57), but for a short number right after a word
//     (web-01, node-1: a host's);
//   - a name of numbers alone (tcpdump -G's %s.pcap) is its extensions;
//   - a number glued to the end of a name without such extensions is
//     tcpdump -C's counter (name, name1, name2; trace.pcap, trace.pcap1),
//     and the rest is read again as above.
//
// What the first two leave out is marked (#), so that a lone capture named
// like a ring's stem (client.pcap beside client_00001_….pcap) is its own.
// Numbers earlier in the name stay: they tell hosts and interfaces apart
// (web01_00001_….pcapng and web02_00001_….pcapng, eth0 and eth1).
func nameStem(path string) string {
	dir, name := filepath.Split(path)
	base, ext := splitExt(name)
	if ext == "" {
		// tcpdump -C: the counter glued to the end.
		cut := len(name)
		for cut > 0 && isDigit(rune(name[cut-1])) {
			cut--
		}
		if cut > 0 && cut < len(name) {
			base, ext = splitExt(name[:cut])
		}
	}
	return dir + ringBase(base) + ext
}

// splitExt splits name into its base and its extensions (at most two,
// letters only: .pcapng, .pcap.gz).
func splitExt(name string) (base, ext string) {
	base = name
	for range 2 {
		e := filepath.Ext(base)
		if len(e) < 2 || strings.ContainsFunc(e[1:], func(r rune) bool { return !isLetter(r) }) {
			break
		}
		base, ext = base[:len(base)-len(e)], e+ext
	}
	return base, ext
}

// dumpcapSuffix is what dumpcap -b and editcap -c add: _00001_20240311080000.
var dumpcapSuffix = regexp.MustCompile(`_\d{5,}_\d{14}$`)

// ringBase is base without a ring's numbers at its end (see nameStem).
func ringBase(base string) string {
	if loc := dumpcapSuffix.FindStringIndex(base); loc != nil && loc[0] > 0 {
		return base[:loc[0]] + "#"
	}
	sep := func(i int) bool { // base[i] separates two numbers, or a word and a number
		c := base[i]
		return c == '-' || c == '_' || c == ' ' || c == ':' || c == 'T' && i > 0 && isDigit(rune(base[i-1]))
	}
	cut := len(base)
	for {
		i := cut
		for i > 0 && isDigit(rune(base[i-1])) {
			i--
		}
		if i == cut {
			break
		}
		if i == 0 {
			return "#" // numbers alone
		}
		if !sep(i - 1) {
			break
		}
		// A short number right after a word is a host's (web-01).
		if cut-i <= 3 && i >= 2 && isLetter(rune(base[i-2])) {
			break
		}
		cut = i - 1
	}
	if cut == len(base) {
		return base
	}
	return base[:cut] + "#"
}

func isDigit(r rune) bool  { return '0' <= r && r <= '9' }
func isLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }
