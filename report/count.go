package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// CountRun is one run of `collide run -count N`.
type CountRun struct {
	// N is the run's number, from 1.
	N int `json:"n"`
	// Seed is the run's seed, to replay it with -seed.
	Seed int64 `json:"seed"`
	// Verdict is the run's verdict ("error" when it could not start).
	Verdict Verdict `json:"verdict"`
	// ExitCode is what `collide run` alone would have exited with.
	ExitCode int `json:"exit_code"`
	// Dir is the run folder.
	Dir string `json:"dir"`
	// Error says why the run could not start or complete, if so.
	Error string `json:"error,omitempty"`
}

// CountSummary is the outcome of running one profile several times: races
// are probabilistic, and the question is how often a run flags one.
type CountSummary struct {
	SchemaVersion int    `json:"schema_version"`
	Profile       string `json:"profile"`
	// Count is how many runs were asked for; len(Runs) is fewer when
	// UntilFail stopped at a FAIL or the runs were interrupted.
	Count     int  `json:"count"`
	UntilFail bool `json:"until_fail"`
	// Flagged is how many runs failed (an invariant violated).
	Flagged int `json:"flagged"`
	// ExitCode is the worst run's exit code (WorstExitCode: 130 > 2 > 1 >
	// 3 > 4 > 0): 1 when a run failed and none was interrupted.
	ExitCode int        `json:"exit_code"`
	Runs     []CountRun `json:"runs"`
}

// Add records a finished run and updates Flagged and ExitCode.
func (s *CountSummary) Add(r CountRun) {
	s.Runs = append(s.Runs, r)
	if r.Verdict == Fail {
		s.Flagged++
	}
	codes := make([]int, len(s.Runs))
	for i, r := range s.Runs {
		codes[i] = r.ExitCode
	}
	s.ExitCode = WorstExitCode(codes...)
}

// Headline is "profile counter: flagged in 3 of 5 runs", saying also when
// -until-fail stopped early.
func (s *CountSummary) Headline() string {
	h := fmt.Sprintf("profile %s: flagged in %d of %d runs", s.Profile, s.Flagged, len(s.Runs))
	if len(s.Runs) < s.Count {
		why := "interrupted"
		if s.UntilFail && s.Flagged > 0 {
			why = "-until-fail stopped at the first FAIL"
		}
		h += fmt.Sprintf(" (%d asked; %s)", s.Count, why)
	}
	return h
}

// CountTable writes the headline, one row per run (number, seed, verdict,
// exit code, run folder) fitted to width characters (0: no limit), and the
// exit code.
func CountTable(w io.Writer, s *CountSummary, width int) error {
	fitLine(w, width, s.Headline())
	cols := []column{{"Run", true, 0}, {"Verdict", true, 0}, {"Seed", true, 0}, {"Exit", false, 0}, {"Run folder", true, 0}}
	rows := make([][]string, len(s.Runs))
	for i, r := range s.Runs {
		dir := r.Dir
		if r.Error != "" {
			dir += "\nerror: " + r.Error
		}
		rows[i] = []string{fmt.Sprint(r.N), strings.ToUpper(string(r.Verdict)), fmt.Sprint(r.Seed), fmt.Sprint(r.ExitCode), dir}
	}
	if err := fitTable(w, width, cols, rows); err != nil {
		return fmt.Errorf("report: count table: %w", err)
	}
	fmt.Fprintf(w, "exit %d\n", s.ExitCode)
	return nil
}

// CountJSON writes s as one JSON object.
func CountJSON(w io.Writer, s *CountSummary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("report: count json: %w", err)
	}
	return nil
}
