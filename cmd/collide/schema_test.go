package main

import (
	"os"
	"path/filepath"
	"testing"
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
