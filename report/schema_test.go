package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

const schemaID = "https://github.com/ntlmscope/ntlmscope/report/schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // date-time is checked, not only annotated
	if err := c.AddResource(schemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaID)
	if err != nil {
		t.Fatalf("schema.json does not compile: %v", err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, name string, out []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s does not match report/schema.json: %v", name, err)
	}
}

// TestJSONMatchesSchema validates the json format of every fixture and
// every capture against report/schema.json.
func TestJSONMatchesSchema(t *testing.T) {
	sch := compileSchema(t)
	for name, f := range fixtures() {
		validate(t, sch, name, render(t, "json", Options{}, f()))
		validate(t, sch, name+" anonymized", render(t, "json", Options{Anonymize: true}, f()))
	}
	caps := labCaptures("*.pcap*")
	if dir := filepath.Join("..", "..", "shared", "captures"); dirExists(dir) || os.Getenv("NTLMSCOPE_REQUIRE_SHARED") != "" {
		caps = append(caps, sharedCaptures(t)...)
	}
	for _, c := range caps {
		validate(t, sch, filepath.Base(c), render(t, "json", Options{}, analyze(t, c)))
	}
}

// TestSchemaRejects makes sure the schema constrains: broken documents
// fail.
func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	good := render(t, "json", Options{}, balancerReport())
	for name, edit := range map[string]func(map[string]any){
		"unknown verdict": func(m map[string]any) { m["verdict"].(map[string]any)["code"] = "bogus" },
		"no summary":      func(m map[string]any) { delete(m, "summary") },
		"wrong schema":    func(m map[string]any) { m["schema"] = "ntlmscope.report/v0" },
		"negative count":  func(m map[string]any) { m["summary"].(map[string]any)["handshakes"] = -1 },
		"bad time":        func(m map[string]any) { m["source"].(map[string]any)["first_seen"] = "yesterday" },
		"unknown finding": func(m map[string]any) { m["findings"].([]any)[0].(map[string]any)["code"] = "NOPE" },
		"bad outcome": func(m map[string]any) {
			m["connections"].([]any)[0].(map[string]any)["handshakes"].([]any)[0].(map[string]any)["outcome"] = "maybe"
		},
	} {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		bad, _ := json.Marshal(m)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
		if sch.Validate(inst) == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

// TestSchemaCoversModel keeps report/schema.json in step with
// analyzer/model.go: every JSON member of every model type is described,
// members without omitempty are required, and the code lists are the
// analyzer's.
func TestSchemaCoversModel(t *testing.T) {
	raw, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Slice || rt.Kind() == reflect.Map || rt.Kind() == reflect.Pointer {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == reflect.TypeOf(time.Time{}) || seen[rt] {
			return
		}
		seen[rt] = true
		def, ok := s.Defs[rt.Name()]
		if !ok {
			t.Errorf("schema.json has no $defs/%s (analyzer.%s)", rt.Name(), rt.Name())
			return
		}
		for i := range rt.NumField() {
			f := rt.Field(i)
			if !f.IsExported() { // not encoded (analyzer.Report.lazy)
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if _, ok := def.Properties[name]; !ok {
				t.Errorf("schema.json: $defs/%s lacks %q (analyzer.%s.%s): describe it", rt.Name(), name, rt.Name(), f.Name)
			}
			if !strings.Contains(opts, "omitempty") && !slices.Contains(def.Required, name) {
				t.Errorf("schema.json: $defs/%s should require %q (always written)", rt.Name(), name)
			}
			walk(f.Type)
		}
		for name := range def.Properties {
			if !hasJSONField(rt, name) {
				t.Errorf("schema.json: $defs/%s describes %q, which analyzer.%s does not have", rt.Name(), name, rt.Name())
			}
		}
	}
	walk(reflect.TypeOf(analyzer.Report{}))

	var enums struct {
		Defs struct {
			Finding struct {
				Properties struct {
					Code struct{ Enum []string } `json:"code"`
				} `json:"properties"`
			} `json:"Finding"`
			Verdict struct {
				Properties struct {
					Code struct{ Enum []string } `json:"code"`
				} `json:"properties"`
			} `json:"Verdict"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &enums); err != nil {
		t.Fatal(err)
	}
	if got, want := sorted(enums.Defs.Finding.Properties.Code.Enum), sortedKeys(analyzer.Codes); !slices.Equal(got, want) {
		t.Errorf("schema.json finding codes %v, analyzer.Codes has %v", got, want)
	}
	if got, want := sorted(enums.Defs.Verdict.Properties.Code.Enum), sortedKeys(analyzer.VerdictTitles); !slices.Equal(got, want) {
		t.Errorf("schema.json verdict codes %v, analyzer.VerdictTitles has %v", got, want)
	}
}

func hasJSONField(rt reflect.Type, name string) bool {
	for i := range rt.NumField() {
		if n, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); n == name {
			return true
		}
	}
	return false
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
