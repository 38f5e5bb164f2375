package main

import (
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

// TestSchemaFaultKinds: the fault kinds the schema offers are the ones
// chaos/fault registers.
func TestSchemaFaultKinds(t *testing.T) {
	got := slices.Sorted(slices.Values(profiles.FaultKinds))
	if want := fault.Names(); !slices.Equal(got, want) {
		t.Fatalf("profiles.FaultKinds = %v, chaos/fault registers %v", got, want)
	}
}
