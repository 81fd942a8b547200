package analyzer

import (
	"slices"
	"strings"
)

// nameSet collects names without repeats, compared case-insensitively,
// keeping each name as first seen and the order of first sight.
//
// Most sets hold a name or two (the users of a handshake, the
// workstations of a user): they compare with a list, and only a set that
// grows past nameSetSmall hashes its names.
type nameSet struct {
	names []string
	keys  []string        // lower case of names, while the set is small
	seen  map[string]bool // lower case of names, once it is not
}

// nameSetSmall is how many names a nameSet compares by scanning.
const nameSetSmall = 8

// add records n; it reports whether n was new.
func (s *nameSet) add(n string) bool {
	if s.seen == nil && slices.Contains(s.names, n) {
		return false // as sent before: no need to lower it
	}
	return s.addKeyed(n, strings.ToLower(n))
}

// addKeyed is add for a name whose lower case k is known.
func (s *nameSet) addKeyed(n, k string) bool {
	switch {
	case s.seen != nil:
		if s.seen[k] {
			return false
		}
		s.seen[k] = true
	case slices.Contains(s.keys, k):
		return false
	case len(s.keys) < nameSetSmall:
		s.keys = append(s.keys, k)
	default:
		s.seen = make(map[string]bool, 2*nameSetSmall)
		for _, x := range s.keys {
			s.seen[x] = true
		}
		s.seen[k] = true
		s.keys = nil
	}
	s.names = append(s.names, n)
	return true
}

// list returns the names (never nil).
func (s *nameSet) list() []string {
	if s.names == nil {
		return []string{}
	}
	return s.names
}
