package reassembly

import (
	"cmp"
	"slices"
	"sort"
)

// FrameLocator turns the Frame of a packet of a chain of files (files that
// follow each other in time, see OpenFiles) back into its own file's index
// and frame number, as Wireshark shows it when it opens that file. A nil
// FrameLocator, which NewFrameLocator returns when no file follows
// another, gives every frame back as it is.
type FrameLocator struct {
	chain []int   // by file: the chain's first file
	base  []int64 // by file: SourceStats.FrameBase
	// members lists each chain's files (by its first file), in order of
	// their frames.
	members [][]int
}

// NewFrameLocator returns the FrameLocator of a run's source counts, nil
// when no file follows another.
func NewFrameLocator(s SourceStats) *FrameLocator {
	chained := false
	for i, c := range s.Chain {
		chained = chained || c != i
	}
	if !chained || len(s.FrameBase) != len(s.Chain) {
		return nil
	}
	l := &FrameLocator{chain: s.Chain, base: s.FrameBase, members: make([][]int, len(s.Chain))}
	for i, c := range s.Chain {
		if c < 0 || c >= len(s.Chain) {
			return nil
		}
		l.members[c] = append(l.members[c], i)
	}
	for _, m := range l.members {
		slices.SortFunc(m, func(a, b int) int { return cmp.Compare(l.base[a], l.base[b]) })
	}
	return l
}

// ChainOf returns the first file of file's chain: file itself when it
// follows no other.
func (l *FrameLocator) ChainOf(file int) int {
	if l == nil || file < 0 || file >= len(l.chain) {
		return file
	}
	return l.chain[file]
}

// Chained reports whether file follows another file or is followed by one.
func (l *FrameLocator) Chained(file int) bool {
	return l != nil && file >= 0 && file < len(l.chain) && len(l.members[l.chain[file]]) > 1
}

// Locate returns the file that frame, the Frame of a packet of file's chain
// (file is any of its files), belongs to, and its number in that file.
func (l *FrameLocator) Locate(file int, frame int64) (int, int64) {
	if !l.Chained(file) || frame <= 0 {
		return file, frame
	}
	// The last file whose frames start before frame (a ring buffer may
	// have hundreds).
	m := l.members[l.chain[file]]
	i := sort.Search(len(m), func(i int) bool { return l.base[m[i]] >= frame })
	k := m[max(i-1, 0)]
	return k, frame - l.base[k]
}
