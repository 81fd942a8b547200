package analyzer

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestPartsAgree checks that dividing the diagnosis among goroutines does
// not change a byte of the report: every scripted case, and larger mixes,
// are finished undivided and divided into 2, 3 and 7 parts (far more
// parts than their size would get).
func TestPartsAgree(t *testing.T) {
	type input struct {
		name string
		play func(s *script)
	}
	var inputs []input
	for _, list := range [][]outcomeCase{outcomeCases(), correlationCases(), legCases(), regressionCases()} {
		for _, tc := range list {
			inputs = append(inputs, input{tc.name, tc.play})
		}
	}
	inputs = append(inputs,
		input{"rich", richCapture},
		input{"busy", func(s *script) { playBusy(s, 300, false) }},
		input{"busy-behind", func(s *script) { playBusy(s, 300, true) }},
	)
	report := func(t *testing.T, in input, parts int) []byte {
		t.Helper()
		defer func(old int) { partsOverride = old }(partsOverride)
		partsOverride = parts
		s := newScript(t)
		in.play(s)
		b, err := json.Marshal(s.finish())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			want := report(t, in, 1)
			for _, parts := range []int{2, 3, 7} {
				if got := report(t, in, parts); !bytes.Equal(got, want) {
					t.Errorf("in %d parts the report differs from the undivided one:\n%s\n%s", parts, got, want)
				}
			}
		})
	}
	t.Run("synthetic", func(t *testing.T) {
		defer func(old int) { partsOverride = old }(partsOverride)
		events, stats := syntheticEvents(t, 5_000_000)
		var want []byte
		for _, parts := range []int{1, 2, 3, 7} {
			partsOverride = parts
			a := New(Options{HashKey: testKey})
			replay(a, events)
			got, err := json.Marshal(a.Finish(stats))
			partsOverride = 0
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = got
			} else if !bytes.Equal(got, want) {
				t.Errorf("in %d parts the report differs from the undivided one", parts)
			}
		}
	})
}
