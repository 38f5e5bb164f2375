package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCLI(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.html")
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr string
	}{
		{"table by default", []string{fixtureRun("2026-11-21", "counter")}, 0, []string{"verdict: FAIL (exit 1)"}, ""},
		{"markdown of a night", []string{"-format", "markdown", fixtureRun("2026-11-21")}, 0,
			[]string{"### ❌ FAIL · counter", "### ❔ UNKNOWN · double-submit", "#### Invariants"}, ""},
		{"junit of every run below a folder", []string{"-format", "junit", fixtureRun()}, 0,
			[]string{`<testsuites>`, `id="5"`, `<failure message="Let increments #212 and #213 both read value 205`}, ""},
		{"html to a file", []string{"-format", "html", "-o", out, fixtureRun("2026-11-21", "counter")}, 0, nil, "wrote " + out},
		{"html of several runs is a usage error", []string{"-format", "html", fixtureRun("2026-11-21")}, 2, nil, "renders one run"},
		{"html of two arguments", []string{"-format", "html", fixtureRun("2026-11-21", "counter"), fixtureRun("2026-11-20", "counter")}, 2, nil, "renders one run"},
		{"no run", nil, 2, nil, "name a run folder"},
		{"bad format", []string{"-format", "pdf", fixtureRun("2026-11-21", "counter")}, 2, nil, `-format "pdf"`},
		{"unreadable result", []string{writeFile(t, "result.json", "{")}, 3, nil, "unexpected end of JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, append([]string{"report"}, tc.args...)...)
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
	page, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(page), `<svg id="latency-chart"`) {
		t.Fatalf("html file: %v", err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
