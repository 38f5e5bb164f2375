package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestHistoryCLI(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr string
	}{
		{"every run, oldest first", []string{fixtureRun()}, 0,
			[]string{"2026-11-19 03:00:00Z", "2026-11-21 03:01:00Z", "no two acknowledged", "error: stack: target"}, ""},
		{"one profile", []string{"-profile", "double-submit", "-format", "markdown", fixtureRun()}, 0,
			[]string{"❔ UNKNOWN", "✅ PASS"}, ""},
		{"unknown profile", []string{"-profile", "nope", fixtureRun()}, 0, nil, `no run of profile "nope"`},
		{"empty folder", []string{t.TempDir()}, 0, nil, "no run folder"},
		{"missing folder", []string{filepath.Join(t.TempDir(), "nope")}, 2, nil, "no such file"},
		{"two folders", []string{fixtureRun(), fixtureRun()}, 2, nil, "name one folder"},
		{"no folder", nil, 2, nil, "name one folder"},
		{"bad format", []string{"-format", "csv", fixtureRun()}, 2, nil, `-format "csv"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, append([]string{"history"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.inStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.inStderr, stderr)
			}
		})
	}
}

func TestHistoryJSONOrder(t *testing.T) {
	code, stdout, stderr := collide(t, "history", "-format", "json", fixtureRun())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		SchemaVersion int `json:"schema_version"`
		Runs          []struct {
			Started string `json:"started"`
			Profile string `json:"profile"`
			Verdict string `json:"verdict"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != 1 {
		t.Errorf("schema_version %d, want 1", doc.SchemaVersion)
	}
	entries := doc.Runs
	if len(entries) != 6 {
		t.Fatalf("%d entries, want 6", len(entries))
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Started < entries[i-1].Started {
			t.Fatalf("not oldest first: %+v", entries)
		}
	}
}
