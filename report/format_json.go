package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/collide-dev/collide/profiles"
)

// runJSON writes the result as result.json holds it, indented.
func runJSON(w io.Writer, r *Result, _ FormatOptions) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: result json: %w", err)
	}
	return nil
}

func compareJSON(w io.Writer, cs []*Comparison, _ FormatOptions) error { return CompareJSON(w, cs) }

func historyJSON(w io.Writer, entries []HistoryEntry, _ FormatOptions) error {
	return HistoryJSON(w, entries)
}

func listJSON(w io.Writer, ps []profiles.BuiltinInfo, _ FormatOptions) error {
	return ListJSON(w, ps)
}

func countJSON(w io.Writer, s *CountSummary, _ FormatOptions) error { return CountJSON(w, s) }
