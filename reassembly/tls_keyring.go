package reassembly

// keyRing is the key logs a reassembler looks secrets up in: the one given
// in Options and those embedded in the captures.
type keyRing []*KeyLog

// active reports whether any key log can supply secrets.
func (r keyRing) active() bool {
	for _, k := range r {
		if k.active() {
			return true
		}
	}
	return false
}

// gen changes whenever any key log gained secrets.
func (r keyRing) gen() uint64 {
	var g uint64
	for _, k := range r {
		g += k.gen.Load()
	}
	return g
}

// lookup merges the secrets the key logs hold for a client random. A miss
// lets the key logs re-read their files (rate-limited); the caller looks
// again when gen changes.
func (r keyRing) lookup(random [32]byte) (sessionSecrets, bool) {
	var out sessionSecrets
	found := false
	for _, k := range r {
		s, ok := k.lookup(random)
		if !ok {
			continue
		}
		found = true
		for i, v := range s {
			if out[i] == nil {
				out[i] = v
			}
		}
	}
	return out, found
}

// reload lets the key logs re-read their files (rate-limited).
func (r keyRing) reload() {
	for _, k := range r {
		k.maybeReload()
	}
}

// following reports whether a key log follows its growing files
// (KeyLog.Follow): a connection still waiting for its secrets then asks
// again on each record, not only when another connection's lookup found
// something new.
func (r keyRing) following() bool {
	for _, k := range r {
		if k.following() {
			return true
		}
	}
	return false
}
