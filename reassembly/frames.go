package reassembly

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
		// Files join their chain in order of time, and so of frames.
		for i := 1; i < len(m); i++ {
			for j := i; j > 0 && l.base[m[j]] < l.base[m[j-1]]; j-- {
				m[j], m[j-1] = m[j-1], m[j]
			}
		}
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
	m := l.members[l.chain[file]]
	k := m[0]
	for _, f := range m[1:] {
		if l.base[f] >= frame {
			break
		}
		k = f
	}
	return k, frame - l.base[k]
}
