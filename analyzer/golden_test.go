package analyzer

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestGolden compares whole reports with reviewed golden files (run with
// -update after a deliberate change, and review the diff like code).
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		play func(s *script)
	}{
		{"rich", richCapture},
		{"split-by-balancer", func(s *script) {
			a := s.conn(client1, vip)
			a.anon(server)
			ch := a.t1(server, "WEB01")
			a.finServer()
			b := s.conn(client2, vip)
			b.t3(server, `CORP\alice`, ch, 401)
			ch2 := b.t1(server, "WEB02")
			b.t3(server, `CORP\alice`, ch2, 200)
			b.get(2, 200)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			tc.play(s)
			got, err := json.MarshalIndent(s.finish(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("report differs from %s; run go test ./analyzer -run TestGolden -update and review the diff", path)
			}
		})
	}
}
