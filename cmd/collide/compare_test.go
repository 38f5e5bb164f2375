package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func fixtureRun(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata", "runs"}, parts...)...)
}

// TestCompareCLI: flags, exit codes and formats of collide compare on the
// fixture runs.
func TestCompareCLI(t *testing.T) {
	night1, night2 := fixtureRun("2026-11-20"), fixtureRun("2026-11-21")
	pass, fail := fixtureRun("2026-11-20", "counter"), fixtureRun("2026-11-21", "counter", "result.json")
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr string
	}{
		{"regression shown, exit 0 without the flag", []string{pass, fail}, 0,
			[]string{"PASS", "FAIL ⚠", "verdict PASS → FAIL", "155.4ms (+1252%) ⚠"}, "regression"},
		{"fail on regression exits 1", []string{"-fail-on-regression", pass, fail}, exitRegression, []string{"4 regressions"}, ""},
		{"double-dash flags and markdown", []string{"--fail-on-regression", "--format", "markdown", night1, night2}, exitRegression,
			[]string{"### ⚠️ compare profile counter", "**FAIL** ⚠️", "**7 regressions in 2 of 2 profiles**"}, ""},
		{"thresholds can be raised", []string{"-p99-threshold", "2000%", "-unknown-threshold", "90", "-fail-on-regression", fixtureRun("2026-11-20", "double-submit"), fixtureRun("2026-11-21", "double-submit")},
			exitRegression, []string{"1 regression:", "verdict PASS → UNKNOWN"}, ""},
		{"no regression exits 0", []string{"-fail-on-regression", pass, pass}, 0, []string{"no regression"}, ""},
		{"one run is a usage error", []string{pass}, 2, nil, "at least two runs"},
		{"bad format", []string{"-format", "xml", pass, fail}, 2, nil, `-format "xml"`},
		{"bad threshold", []string{"-p99-threshold", "lots", pass, fail}, 2, nil, "percentage"},
		{"missing run", []string{pass, filepath.Join(t.TempDir(), "nope")}, 2, nil, "no such file"},
		{"folder without runs", []string{pass, t.TempDir()}, 2, nil, "no run folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, append([]string{"compare"}, tc.args...)...)
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

func TestCompareJSON(t *testing.T) {
	code, stdout, stderr := collide(t, "compare", "-format", "json", fixtureRun("2026-11-20"), fixtureRun("2026-11-21"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		Regressed   bool `json:"regressed"`
		Regressions int  `json:"regressions"`
		Comparisons []struct {
			Profile     string `json:"profile"`
			Regressions []struct {
				Run int    `json:"run"`
				Why string `json:"why"`
			} `json:"regressions"`
		} `json:"comparisons"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if !out.Regressed || out.Regressions != 7 || len(out.Comparisons) != 2 || out.Comparisons[0].Regressions[0].Why != "verdict PASS → FAIL" {
		t.Fatalf("%+v", out)
	}
}

func TestPercentFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{{"20%", 0.2, true}, {"20", 0.2, true}, {" 5.5% ", 0.055, true}, {"x", 0, false}, {"", 0, false}} {
		t.Run(tc.in, func(t *testing.T) {
			var p percent
			err := p.Set(tc.in)
			if (err == nil) != tc.ok || tc.ok && (float64(p) < tc.want-1e-12 || float64(p) > tc.want+1e-12) {
				t.Fatalf("Set(%q) = %v, %v; want %v (ok %v)", tc.in, float64(p), err, tc.want, tc.ok)
			}
		})
	}
}
