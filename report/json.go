package report

import (
	"encoding/json"
	"io"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// jsonRenderer writes the report model as one indented JSON document: the
// contract scripts rely on (schema "ntlmscope.report/v1").
type jsonRenderer struct{}

func (jsonRenderer) Render(w io.Writer, r *analyzer.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
