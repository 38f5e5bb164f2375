package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunCount runs the counter built-in several times against the
// in-process demo: the racy endpoint is flagged and -until-fail stops at the
// first FAIL (exit 1); the safe one passes every run (exit 0). Each run has
// its own folder and its own seed.
func TestRunCount(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	type summary struct {
		SchemaVersion int `json:"schema_version"`
		Count         int `json:"count"`
		Flagged       int `json:"flagged"`
		ExitCode      int `json:"exit_code"`
		Runs          []struct {
			N        int    `json:"n"`
			Seed     int64  `json:"seed"`
			Verdict  string `json:"verdict"`
			ExitCode int    `json:"exit_code"`
			Dir      string `json:"dir"`
		} `json:"runs"`
	}
	cases := []struct {
		name     string
		args     []string
		wantExit int
		check    func(t *testing.T, s summary)
	}{
		{"racy until fail", []string{"-count", "3", "-until-fail"}, 1, func(t *testing.T, s summary) {
			last := s.Runs[len(s.Runs)-1]
			if s.Flagged != 1 || last.Verdict != "fail" {
				t.Fatalf("want exactly one FAIL, the last run: %+v", s)
			}
		}},
		{"safe", []string{"-count", "2", "-set", "target.demo.mode=safe"}, 0, func(t *testing.T, s summary) {
			if s.Flagged != 0 || len(s.Runs) != 2 || s.Runs[0].Seed == s.Runs[1].Seed {
				t.Fatalf("want 2 passing runs with different seeds: %+v", s)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "runs")
			args := append([]string{"run", "-q", "-format", "json", "-out", out}, tc.args...)
			code, stdout, stderr := collide(t, append(args, "counter")...)
			if code != tc.wantExit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantExit, stdout, stderr)
			}
			var s summary
			if err := json.Unmarshal([]byte(stdout), &s); err != nil {
				t.Fatalf("%v:\n%s", err, stdout)
			}
			if s.SchemaVersion != 1 || s.ExitCode != code || len(s.Runs) == 0 {
				t.Fatalf("summary %+v", s)
			}
			for i, r := range s.Runs {
				if r.N != i+1 || !strings.HasSuffix(r.Dir, filepath.Join("runs", "run-0"+string(rune('1'+i)))) {
					t.Errorf("run %d: %+v", i, r)
				}
				b, err := os.ReadFile(filepath.Join(r.Dir, "result.json"))
				if err != nil {
					t.Fatalf("run %d has no result.json: %v", r.N, err)
				}
				var res struct {
					Schema        int   `json:"schema"`
					SchemaVersion int   `json:"schema_version"`
					Seed          int64 `json:"seed"`
				}
				if err := json.Unmarshal(b, &res); err != nil || res.Schema != 1 || res.SchemaVersion != 1 || res.Seed != r.Seed {
					t.Errorf("run %d: result.json %+v (%v), want schema and schema_version 1 and seed %d", r.N, res, err, r.Seed)
				}
				if !strings.Contains(stderr, "seed ") {
					t.Errorf("the seeds are not printed:\n%s", stderr)
				}
			}
			tc.check(t, s)
		})
	}
}

// TestRunCountTable: the table output says "flagged in k of N" and fits.
func TestRunCountTable(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	out := filepath.Join(t.TempDir(), "runs")
	code, stdout, stderr := collide(t, "run", "-q", "-out", out, "-count", "2", "-set", "target.demo.mode=safe", "counter")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "profile counter: flagged in 0 of 2 runs") || strings.Count(stdout, "PASS") != 2 {
		t.Fatalf("stdout:\n%s", stdout)
	}
	for _, l := range strings.Split(stdout, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("line wider than 80: %q", l)
		}
	}
}
