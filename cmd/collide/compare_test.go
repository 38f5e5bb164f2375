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
		// The fixture nights ran the counter safe, then racy: different
		// overrides, so different profile hashes.
		{"different profiles are refused", []string{"-fail-on-regression", pass, fail}, 2, nil, "different profiles, no regression called (-force to compare anyway)"},
		{"regression shown, exit 0 without the flag", []string{"-force", pass, fail}, 0,
			[]string{"PASS", "FAIL ⚠", "verdict PASS → FAIL", "155.4ms (+1252%)", "latency incr (fastest 10%)", "+5% [+1%, +9%] p=0.019 n=40+96", "differs: ", "overrides target.demo.mode=safe → (none)"}, "regression"},
		{"fail on regression exits 1", []string{"-force", "-fail-on-regression", pass, fail}, exitRegression, []string{"3 regressions"}, ""},
		{"double-dash flags and markdown", []string{"--force", "--fail-on-regression", "--format", "markdown", night1, night2}, exitRegression,
			[]string{"### ⚠️ compare profile counter", "**FAIL** ⚠️", "**5 regressions in 2 of 2 profiles**"}, ""},
		{"thresholds can be raised", []string{"-force", "-latency-threshold", "2000%", "-unknown-threshold", "90", "-fail-on-regression", fixtureRun("2026-11-20", "double-submit"), fixtureRun("2026-11-21", "double-submit")},
			exitRegression, []string{"1 regression:", "verdict PASS → UNKNOWN"}, ""},
		{"a lower latency threshold calls the shift", []string{"-force", "-latency-threshold", "0", "-fail-on-regression", pass, fail},
			exitRegression, []string{"4 regressions:", "latency incr +5% [+1%, +9%] p=0.019 n=40+96 (threshold ±0%)"}, ""},
		{"every request, not the fastest", []string{"-force", "-latency-fastest", "100%", pass, fail},
			0, []string{"│ latency incr  ", "+22% [+15%, +29%] p=0.000 n=400+952 ⚠", "(threshold +15%)"}, ""},
		{"bad fastest share", []string{"-latency-fastest", "0", pass, fail}, 2, nil, "-latency-fastest 0%"},
		{"no regression exits 0", []string{"-fail-on-regression", pass, pass}, 0, []string{"no regression"}, ""},
		{"one run is a usage error", []string{pass}, 2, nil, "at least two runs"},
		{"bad format", []string{"-format", "xml", pass, fail}, 2, nil, `-format "xml"`},
		{"bad threshold", []string{"-latency-threshold", "lots", pass, fail}, 2, nil, "percentage"},
		{"bad alpha", []string{"-alpha", "5", pass, fail}, 2, nil, "significance level"},
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
	code, stdout, stderr := collide(t, "compare", "-force", "-format", "json", fixtureRun("2026-11-20"), fixtureRun("2026-11-21"))
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
	if !out.Regressed || out.Regressions != 5 || len(out.Comparisons) != 2 || out.Comparisons[0].Regressions[0].Why != "verdict PASS → FAIL" {
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
