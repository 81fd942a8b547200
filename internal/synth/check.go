package synth

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Mismatch is one count a report got wrong.
type Mismatch struct {
	// Field is "summary.<name>", "source.<name>" or "causes.<name>".
	Field string
	// Want is the count by construction; Got what the report says
	// (Missing when the report lacks the field).
	Want, Got int64
	Missing   bool
}

// String says what differs.
func (m Mismatch) String() string {
	if m.Missing {
		return fmt.Sprintf("%s: want %d, report has no such field", m.Field, m.Want)
	}
	return fmt.Sprintf("%s: want %d, got %d (%+d)", m.Field, m.Want, m.Got, m.Got-m.Want)
}

// ReportCounts are the integer fields of an ntlmscope JSON report's
// "source" and "summary" objects and of its verdict's "causes".
type ReportCounts struct {
	Source, Summary, Causes map[string]int64
}

// ReadReportCounts reads the counts from the head of an ntlmscope JSON
// report. It stops once it has them: they come before the lists, so a
// report of a million connections is not read to its end.
func ReadReportCounts(r io.Reader) (*ReportCounts, error) {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("synth: the report is not a JSON object (%v)", err)
	}
	rc := &ReportCounts{}
	for dec.More() && (rc.Source == nil || rc.Summary == nil || rc.Causes == nil) {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("synth: reading the report: %w", err)
		}
		key, _ := t.(string)
		var dst *map[string]int64
		var v any
		switch key {
		case "source":
			dst, v = &rc.Source, &map[string]any{}
		case "summary":
			dst, v = &rc.Summary, &map[string]any{}
		case "verdict":
			dst, v = &rc.Causes, &struct {
				Causes map[string]any `json:"causes"`
			}{}
		default:
			var skip json.RawMessage
			v = &skip
		}
		if err := dec.Decode(v); err != nil {
			return nil, fmt.Errorf("synth: reading the report's %q: %w", key, err)
		}
		if dst == nil {
			continue
		}
		var raw map[string]any
		switch v := v.(type) {
		case *map[string]any:
			raw = *v
		case *struct {
			Causes map[string]any `json:"causes"`
		}:
			raw = v.Causes
		}
		*dst = map[string]int64{}
		for k, x := range raw {
			if f, ok := x.(float64); ok {
				(*dst)[k] = int64(f)
			}
		}
	}
	if rc.Source == nil || rc.Summary == nil {
		return nil, fmt.Errorf("synth: the report has no \"source\" or \"summary\" object")
	}
	return rc, nil
}

// Compare returns the source and summary counts the report got wrong, and,
// apart, the verdict causes that differ from the construction's (see
// Expected.Causes: informational, not a failure). Both are sorted.
func (e *Expected) Compare(rc *ReportCounts) (counts, causes []Mismatch, err error) {
	for _, part := range []struct {
		name string
		want any
		got  map[string]int64
		out  *[]Mismatch
	}{
		{"source", e.Source, rc.Source, &counts},
		{"summary", e.Summary, rc.Summary, &counts},
		{"causes", e.Causes, rc.Causes, &causes},
	} {
		want, err := toCounts(part.want)
		if err != nil {
			return nil, nil, err
		}
		for k, w := range want {
			g, ok := part.got[k]
			if !ok || g != w {
				*part.out = append(*part.out, Mismatch{Field: part.name + "." + k, Want: w, Got: g, Missing: !ok})
			}
		}
	}
	byField := func(a, b Mismatch) int { return strings.Compare(a.Field, b.Field) }
	slices.SortFunc(counts, byField)
	slices.SortFunc(causes, byField)
	return counts, causes, nil
}

// toCounts turns one of the count structs or maps into a map by JSON name.
func toCounts(v any) (map[string]int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]int64
	return m, json.Unmarshal(b, &m)
}
