package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/profiles"
)

// TestSchemaCommand: `collide schema` prints exactly the checked-in
// docs/profile.schema.json (kept in step with the Go types by
// TestJSONSchemaGolden in profiles), and rejects arguments.
func TestSchemaCommand(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "profile.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := collide(t, "schema")
	if code != 0 || stdout != string(want) {
		t.Fatalf("exit %d, %d bytes (want %d); stderr: %s", code, len(stdout), len(want), stderr)
	}
	if code, _, _ := collide(t, "schema", "extra"); code != 2 {
		t.Fatalf("schema extra: exit %d, want 2", code)
	}
}

// TestSchemaFaultKinds: the fault kinds the schema offers (one alternative
// of a chaos entry each) are the ones chaos/fault registers.
func TestSchemaFaultKinds(t *testing.T) {
	b, err := profiles.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			OneOf []struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"oneOf"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, alt := range s.Defs["Fault"].OneOf {
		got = append(got, alt.Properties["fault"].Enum...)
	}
	if want := fault.Names(); !slices.Equal(got, want) {
		t.Fatalf("the schema offers faults %v, chaos/fault registers %v", got, want)
	}
}
