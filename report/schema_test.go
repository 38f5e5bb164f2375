package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResultSchemaVersion: result.json files with schema only (written
// before schema_version) and with both agreeing are read; others refused.
func TestResultSchemaVersion(t *testing.T) {
	cases := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"schema only", `{"schema": 1}`, ""},
		{"both", `{"schema": 1, "schema_version": 1}`, ""},
		{"disagree", `{"schema": 1, "schema_version": 2}`, "schema_version 2"},
		{"newer", `{"schema": 2, "schema_version": 2}`, "schema 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "result.json")
			if err := os.WriteFile(path, []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err %v, want one naming %q", err, tc.wantErr)
			}
		})
	}
}
