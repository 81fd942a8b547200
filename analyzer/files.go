package analyzer

import (
	"cmp"
	"path/filepath"
	"slices"
	"strconv"
)

// FileLabels names capture files as reports show them: by base name, which
// keeps tables and messages short, unless two files share one (captures of
// two hosts, each called capture.pcap): then as given.
func FileLabels(files []string) []string {
	labels := make([]string, len(files))
	seen := make(map[string]bool, len(files))
	for i, f := range files {
		labels[i] = filepath.Base(f)
		if seen[labels[i]] {
			return files
		}
		seen[labels[i]] = true
	}
	return labels
}

// cref names connection cs in a finding's message: its id, and, when the
// run read several captures, where Wireshark finds it, as in "4
// (tcp.stream 2 in client.pcap)". Ids count the connections of every
// capture; tcp.stream numbers those of one file, and equal the id when
// there is one.
func cref(labels []string, cs *connState) string {
	id := strconv.Itoa(int(cs.id))
	if len(labels) < 2 {
		return id
	}
	return id + " (tcp.stream " + strconv.Itoa(int(cs.stream)) + " in " + fileLabel(labels, int(cs.file)) + ")"
}

// fileLabel returns file's label, "?" for an index labels does not have.
func fileLabel(labels []string, file int) string {
	if file < 0 || file >= len(labels) {
		return "?"
	}
	return labels[file]
}

// appendCref appends cref(labels, cs) to b, without fmt (see
// restartMessage).
func appendCref(b []byte, labels []string, cs *connState) []byte {
	if len(labels) < 2 {
		return strconv.AppendInt(b, int64(cs.id), 10)
	}
	return append(b, cref(labels, cs)...)
}

// connByID returns the HTTP connection of id, or nil (d.conns is sorted
// by id).
func (d *diagnosis) connByID(id int) *connState {
	i, ok := slices.BinarySearchFunc(d.conns, id, func(cs *connState, id int) int { return cmp.Compare(int(cs.id), id) })
	if !ok {
		return nil
	}
	return d.conns[i]
}

// cref names cs in a message (see cref).
func (d *diagnosis) cref(cs *connState) string { return cref(d.labels, cs) }
