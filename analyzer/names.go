package analyzer

import "strings"

// nameSet collects names without repeats, compared case-insensitively,
// keeping each name as first seen and the order of first sight.
type nameSet struct {
	seen  map[string]bool
	names []string
}

// add records n; it reports whether n was new.
func (s *nameSet) add(n string) bool {
	k := strings.ToLower(n)
	if s.seen[k] {
		return false
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[k] = true
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
