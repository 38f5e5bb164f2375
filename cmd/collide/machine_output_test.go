package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestMachineOutputsCarrySchemaVersion: every JSON document collide prints
// on stdout says its schema_version.
func TestMachineOutputsCarrySchemaVersion(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"list", []string{"list", "-format", "json"}},
		{"history", []string{"history", "-format", "json", fixtureRun()}},
		{"compare", []string{"compare", "-force", "-format", "json", fixtureRun("2026-11-20"), fixtureRun("2026-11-21")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var doc struct {
				SchemaVersion *int `json:"schema_version"`
			}
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("%v:\n%s", err, stdout)
			}
			if doc.SchemaVersion == nil || *doc.SchemaVersion != 1 {
				t.Fatalf("schema_version missing or not 1:\n%.300s", stdout)
			}
		})
	}
}

// TestListJSONNamesEveryProfile: `collide list -format json` lists the
// built-ins with their about lines.
func TestListJSONNamesEveryProfile(t *testing.T) {
	code, stdout, stderr := collide(t, "list", "-format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Profiles []struct{ Name, About string } `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range doc.Profiles {
		if p.Name == "counter" && p.About != "" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no counter profile with its about line:\n%s", stdout)
	}
}

// TestRunProgressFlag: -progress takes auto, always or never; anything else
// is a usage error before any load.
func TestRunProgressFlag(t *testing.T) {
	code, _, stderr := collide(t, "run", "-progress", "sometimes", "counter")
	if code != 2 || !strings.Contains(stderr, `-progress "sometimes"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, tc := range []struct {
		name          string
		quiet, always bool
		want          string
	}{{"never", true, false, "nil"}, {"always", false, true, "terminal"}, {"auto", false, false, "stderr"}} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			w := progressWriter(tc.quiet, tc.always, &stderr)
			got := "terminal"
			switch w {
			case nil:
				got = "nil"
			case io.Writer(&stderr):
				got = "stderr"
			}
			if got != tc.want {
				t.Fatalf("progress goes to %s, want %s", got, tc.want)
			}
		})
	}
}
