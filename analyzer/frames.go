package analyzer

import (
	"fmt"
	"strconv"
)

// Frames of connections that span a chain of files (a ring buffer's: see
// reassembly.OpenFiles) count on through the chain's files, as the
// reassembler numbers them; the report gives each frame its own file's
// number, as Wireshark shows it when it opens that file, and names the
// file (reassembly.FrameLocator). Frames of other connections are their
// file's already.

// framePos is a frame as a message prints it (verb %d): its number, and
// the file it is numbered in when its connection spans files.
type framePos struct {
	n    int64
	file string
}

// Format writes the frame's number, then " in FILE" when the file is
// named.
func (p framePos) Format(s fmt.State, _ rune) {
	b := strconv.AppendInt(nil, p.n, 10)
	if p.file != "" {
		b = append(append(b, " in "...), p.file...)
	}
	_, _ = s.Write(b)
}

// fp returns frame, one of cs's, for a message.
func (d *diagnosis) fp(cs *connState, frame int64) framePos {
	if cs == nil {
		return framePos{n: frame}
	}
	return d.fpRef(frameOn(cs, frame))
}

// fpRef returns a frame reference (frameOn) for a message.
func (d *diagnosis) fpRef(r frameRef) framePos {
	if !d.frames.Chained(int(r.file)) || r.frame <= 0 {
		return framePos{n: r.frame}
	}
	file, n := d.frames.Locate(int(r.file), r.frame)
	return framePos{n: n, file: fileLabel(d.labels, file)}
}
