package reassembly

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// maxKeyLogWarnings bounds the warnings kept per key log file.
const maxKeyLogWarnings = 5

// reloadInterval is how often a lookup that found nothing may re-read the
// key log files (wall time): a browser writes a connection's secrets just
// before it sends the records they protect.
const reloadInterval = 200 * time.Millisecond

// KeyLogStats counts what key logs held.
type KeyLogStats struct {
	// Files counts the key log files given; Blocks the pcapng Decryption
	// Secrets Blocks read (through AddEmbedded).
	Files, Blocks int
	// Lines counts key log lines read (blank lines and comments aside).
	Lines int64
	// Secrets counts the secrets kept: lines with a label ntlmscope uses.
	Secrets int64
	// Ignored counts well-formed lines with labels it does not use
	// (CLIENT_EARLY_TRAFFIC_SECRET, EXPORTER_SECRET, RSA, unknown labels).
	Ignored int64
	// BadLines counts lines that are not key log lines.
	BadLines int64
	// Warnings say which lines were bad and why (never their secrets), and
	// which files could not be read; at most a few per file.
	Warnings []string
}

// KeyLog holds TLS secrets in the NSS key log format, from files
// (SSLKEYLOGFILE) and from secrets embedded in pcapng captures. It is safe
// for concurrent use: a capture source adds embedded secrets while the
// reassembler looks secrets up.
//
// Nothing in a key log is fatal: malformed lines are counted and skipped
// (Stats). Files that grow, as SSLKEYLOGFILE does while a browser runs, are
// read again from where they were left: call Reload, or let lookups that
// find nothing do it (at most every 200 ms).
type KeyLog struct {
	mu         sync.Mutex
	secrets    map[[32]byte]*sessionSecrets
	files      []*keyLogFile
	stats      KeyLogStats
	lastReload time.Time
	// follow: misses re-read grown files at once (Follow). Atomic: it is
	// read on each record that waits for its secrets.
	follow atomic.Bool
	// gen counts additions, so that a connection waiting for its secret
	// looks again only when something new arrived.
	gen atomic.Uint64
}

// keyLogFile is a key log file and how far it was read.
type keyLogFile struct {
	path string
	info os.FileInfo // as of the last read; nil before the first
	off  int64       // bytes parsed: up to the end of the last full line
	line int         // lines parsed (numbering for warnings)
	// unterminated is set when the last line lacked its line break but was
	// complete enough to use: it is parsed again, uncounted, when the file
	// grows.
	unterminated bool
	warnings     int
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog {
	return &KeyLog{secrets: map[[32]byte]*sessionSecrets{}}
}

// LoadKeyLogs returns a key log reading the files at paths (each given to
// AddFile). The error joins those of files that could not be read; the key
// log keeps watching them and reads them when they appear.
func LoadKeyLogs(paths ...string) (*KeyLog, error) {
	k := NewKeyLog()
	var errs []error
	for _, p := range paths {
		errs = append(errs, k.AddFile(p))
	}
	return k, errors.Join(errs...)
}

// AddFile reads the key log file at path and keeps it for Reload. An error
// says the file could not be read now (it may not exist yet: a browser
// creates SSLKEYLOGFILE when it first needs it); the file is kept anyway,
// and the error is the caller's to report (no warning is kept for it).
func (k *KeyLog) AddFile(path string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	f := &keyLogFile{path: path}
	k.files = append(k.files, f)
	k.stats.Files++
	return k.readFile(f)
}

// Read adds the key log lines read from r; name identifies them in
// warnings. Only an error from r is returned.
func (k *KeyLog) Read(name string, r io.Reader) error {
	data, err := io.ReadAll(r)
	k.mu.Lock()
	defer k.mu.Unlock()
	f := &keyLogFile{path: name}
	k.parse(f, data, true)
	return err
}

// AddEmbedded adds the key log carried by a pcapng Decryption Secrets Block;
// origin names the capture in warnings.
func (k *KeyLog) AddEmbedded(origin string, data []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stats.Blocks++
	f := &keyLogFile{path: origin + " (embedded secrets)"}
	k.parse(f, data, true)
}

// Reload reads what was appended to the key log files since they were last
// read (a file that shrank or was replaced is read again whole). The error
// joins those of files that could not be read.
func (k *KeyLog) Reload() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reloadLocked()
}

func (k *KeyLog) reloadLocked() error {
	k.lastReload = time.Now()
	var errs []error
	for _, f := range k.files {
		errs = append(errs, k.readFile(f))
	}
	return errors.Join(errs...)
}

// Follow makes lookups that miss re-read the files as soon as one of them
// grew, not at most every 200 ms. A live capture needs it: the browser
// writes a session's secrets a moment after the ServerHello that the
// capture may already have read, and the session's first requests (its
// NTLM Type 1, say) follow within milliseconds. A miss then costs a stat
// of each file.
func (k *KeyLog) Follow() { k.follow.Store(true) }

// following reports whether Follow was called.
func (k *KeyLog) following() bool { return k.follow.Load() }

// maybeReload re-reads the files when the last read is older than
// reloadInterval, or, when following, when one of them grew. Lookups that
// miss call it.
func (k *KeyLog) maybeReload() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.files) == 0 {
		return
	}
	if k.follow.Load() {
		if !k.grewLocked() {
			return
		}
	} else if time.Since(k.lastReload) < reloadInterval {
		return
	}
	_ = k.reloadLocked() // unreadable files were warned about when added
}

// grewLocked reports whether a file changed since it was last read (a stat
// each). Called with k.mu held.
func (k *KeyLog) grewLocked() bool {
	for _, f := range k.files {
		if info, err := os.Stat(f.path); err == nil && f.changed(info) {
			return true
		}
	}
	return false
}

// changed reports whether the file now described by info may hold lines
// not parsed yet: it was never read, was replaced, changed size or time,
// or its last line still lacks its line break.
func (f *keyLogFile) changed(info os.FileInfo) bool {
	return f.info == nil || !os.SameFile(f.info, info) || info.Size() != f.info.Size() ||
		!info.ModTime().Equal(f.info.ModTime()) || f.unterminated
}

// Stats returns the counts so far.
func (k *KeyLog) Stats() KeyLogStats {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.stats
	s.Warnings = append([]string(nil), k.stats.Warnings...)
	return s
}

// Len returns how many client randoms have secrets.
func (k *KeyLog) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.secrets)
}

// active reports whether the key log can supply secrets, now or later:
// it holds some, or watches a file that may grow.
func (k *KeyLog) active() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.secrets) > 0 || len(k.files) > 0
}

// lookup returns the secrets kept for a client random.
func (k *KeyLog) lookup(random [32]byte) (sessionSecrets, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.secrets[random]
	if !ok {
		return sessionSecrets{}, false
	}
	return *s, true
}

// readFile reads f from where it was left. Called with k.mu held.
func (k *KeyLog) readFile(f *keyLogFile) error {
	fh, err := os.Open(f.path)
	if err != nil {
		if f.info != nil {
			// It was read before: say so once. (A file never read is the
			// caller's to report, from AddFile's error: it may not exist
			// yet.)
			k.warnf(f, "cannot be read any more: %v", err)
			f.info = nil
		}
		return err
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return err
	}
	if f.info != nil && (!os.SameFile(f.info, info) || info.Size() < f.off) {
		// Replaced or truncated: a new key log under the same name.
		f.off, f.line, f.unterminated = 0, 0, false
	}
	if !f.changed(info) {
		f.info = info
		return nil
	}
	f.info = info
	if _, err := fh.Seek(f.off, io.SeekStart); err != nil {
		return err
	}
	data, err := io.ReadAll(fh)
	if err != nil {
		return err
	}
	f.off += int64(k.parse(f, data, false))
	return nil
}

// parse adds the key log lines in data and returns how many bytes it
// consumed: every full line, and a last line without a line break when
// final says none will follow. A last line that is incomplete but already
// valid (a complete secret) is used without being consumed, so that it is
// read again, uncounted, once its line break arrives.
func (k *KeyLog) parse(f *keyLogFile, data []byte, final bool) int {
	consumed := 0
	again := f.unterminated
	f.unterminated = false
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		line, n := data, len(data)
		if nl >= 0 {
			line, n = data[:nl], nl+1
		}
		if nl < 0 && !final {
			// Possibly still being written.
			if kind, cr, sec, err := parseKeyLogLine(line); err == nil {
				if !again {
					f.line++
					k.stats.Lines++
				}
				k.store(kind, cr, sec, !again)
				f.unterminated = true
			}
			return consumed
		}
		if again {
			again = false
			if kind, cr, sec, err := parseKeyLogLine(line); err == nil {
				k.store(kind, cr, sec, false)
			}
		} else {
			f.line++
			k.parseCounted(f, line)
		}
		consumed += n
		data = data[n:]
	}
	return consumed
}

// parseCounted parses one line and counts it.
func (k *KeyLog) parseCounted(f *keyLogFile, line []byte) {
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] == '#' {
		return
	}
	k.stats.Lines++
	kind, cr, sec, err := parseKeyLogLine(line)
	switch {
	case errors.Is(err, errIgnoredLabel):
		k.stats.Ignored++
	case err != nil:
		k.stats.BadLines++
		k.warnf(f, "line %d: %v", f.line, err)
	default:
		k.store(kind, cr, sec, true)
	}
}

// store keeps a secret; count says whether it is new to the statistics.
func (k *KeyLog) store(kind secretKind, cr [32]byte, sec secret, count bool) {
	s := k.secrets[cr]
	if s == nil {
		s = new(sessionSecrets)
		k.secrets[cr] = s
	}
	if count && s[kind] == nil {
		k.stats.Secrets++
	}
	s[kind] = sec
	k.gen.Add(1)
}

// warnf adds a warning about f, up to maxKeyLogWarnings per file.
func (k *KeyLog) warnf(f *keyLogFile, format string, args ...any) {
	f.warnings++
	if f.warnings > maxKeyLogWarnings {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if f.warnings == maxKeyLogWarnings {
		msg += " (further problems in this file are counted, not listed)"
	}
	k.stats.Warnings = append(k.stats.Warnings, "key log "+displayName(f.path)+": "+msg)
}
