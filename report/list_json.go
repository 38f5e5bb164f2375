package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/collide-dev/collide/profiles"
)

// ListEntry is one profile in `collide list --format json`.
type ListEntry struct {
	// Name is what to pass to `collide run`.
	Name string `json:"name"`
	// About is the profile's one-line description.
	About string `json:"about"`
}

// ListJSON writes the profiles of `collide list` as
// {"schema_version": OutputSchemaVersion, "profiles": [{"name", "about"}…]}.
func ListJSON(w io.Writer, ps []profiles.BuiltinInfo) error {
	out := struct {
		SchemaVersion int         `json:"schema_version"`
		Profiles      []ListEntry `json:"profiles"`
	}{OutputSchemaVersion, make([]ListEntry, len(ps))}
	for i, p := range ps {
		out.Profiles[i] = ListEntry{Name: p.Name, About: p.About}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("report: list json: %w", err)
	}
	return nil
}
