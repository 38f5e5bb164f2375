package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestCountSummary: flagged counts the FAILs, the exit code is the worst
// run's by the documented precedence, and the headline says when
// -until-fail stopped early.
func TestCountSummary(t *testing.T) {
	cases := []struct {
		name      string
		count     int
		untilFail bool
		runs      []CountRun
		flagged   int
		exit      int
		headline  string
	}{
		{"all pass", 2, false, []CountRun{{Verdict: Pass}, {Verdict: Pass}}, 0, 0, "flagged in 0 of 2 runs"},
		{"one fail", 3, false, []CountRun{{Verdict: Pass}, {Verdict: Fail, ExitCode: 1}, {Verdict: Pass}}, 1, 1, "flagged in 1 of 3 runs"},
		{"fail beats error", 2, false, []CountRun{{Verdict: Error, ExitCode: 3}, {Verdict: Fail, ExitCode: 1}}, 1, 1, "flagged in 1 of 2 runs"},
		{"error beats inconclusive", 2, false, []CountRun{{Verdict: Unknown, ExitCode: 4}, {Verdict: Error, ExitCode: 3}}, 0, 3, "flagged in 0 of 2 runs"},
		{"until fail stopped", 5, true, []CountRun{{Verdict: Pass}, {Verdict: Fail, ExitCode: 1}}, 1, 1, "flagged in 1 of 2 runs (5 asked; -until-fail stopped at the first FAIL)"},
		{"interrupted", 5, false, []CountRun{{Verdict: Fail, ExitCode: 1}, {Verdict: Interrupted, ExitCode: 130}}, 1, 130, "flagged in 1 of 2 runs (5 asked; interrupted)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &CountSummary{Profile: "p", Count: tc.count, UntilFail: tc.untilFail}
			for i, r := range tc.runs {
				r.N, r.Dir = i+1, "runs/x/run-0"+string(rune('1'+i))
				s.Add(r)
			}
			if s.Flagged != tc.flagged || s.ExitCode != tc.exit {
				t.Errorf("flagged %d exit %d, want %d and %d", s.Flagged, s.ExitCode, tc.flagged, tc.exit)
			}
			if want := "profile p: " + tc.headline; s.Headline() != want {
				t.Errorf("headline %q, want %q", s.Headline(), want)
			}
			var b bytes.Buffer
			if err := CountTable(&b, s, 80); err != nil {
				t.Fatal(err)
			}
			checkFits(t, b.Bytes(), 80)
			if !strings.Contains(b.String(), "run-01") || !strings.HasSuffix(b.String(), fmt.Sprintf("exit %d\n", tc.exit)) {
				t.Errorf("table:\n%s", b.String())
			}
		})
	}
}
