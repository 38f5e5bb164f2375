package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/collide-dev/collide/history"
)

// HistoryEntry is one run in the list `collide history` prints.
type HistoryEntry struct {
	Started time.Time `json:"started"`
	Profile string    `json:"profile"`
	RunID   string    `json:"run_id"`
	Seed    int64     `json:"seed"`
	Verdict Verdict   `json:"verdict"`
	// Counts are the run's totals: ok, fail and unknown in JSON.
	history.Counts
	// P99 is the highest p99 latency over the run's operations, in
	// nanoseconds in JSON.
	P99 time.Duration `json:"p99_ns"`
	// Failing names the invariants that did not pass, with their verdict when
	// it is not fail; for a run that ended in error before checking, the error.
	Failing []string `json:"failing"`
	// Dir is the run folder.
	Dir string `json:"dir"`
}

// HistoryEntries lists runs (already oldest first, see FindRuns) as history
// entries, keeping only the runs of the named profile when profile is not "".
func HistoryEntries(runs []Run, profile string) []HistoryEntry {
	out := []HistoryEntry{}
	for _, run := range runs {
		r := run.Result
		if profile != "" && r.Profile.Name != profile {
			continue
		}
		e := HistoryEntry{
			Started: r.Started.UTC(), Profile: r.Profile.Name, RunID: r.RunID, Seed: r.Seed, Verdict: r.Verdict,
			Counts: r.Totals, Failing: []string{}, Dir: run.Dir,
		}
		for _, m := range r.Attack {
			if m != nil && m.P99 > e.P99 {
				e.P99 = m.P99
			}
		}
		for _, inv := range r.Invariants {
			switch inv.Verdict {
			case Pass:
			case Fail:
				e.Failing = append(e.Failing, inv.Name)
			default:
				e.Failing = append(e.Failing, fmt.Sprintf("%s (%s)", inv.Name, inv.Verdict))
			}
		}
		if len(r.Invariants) == 0 && r.Error != "" {
			e.Failing = append(e.Failing, "error: "+r.Error)
		}
		out = append(out, e)
	}
	return out
}

func (e HistoryEntry) cells() []string {
	p99 := "—"
	if e.P99 > 0 {
		p99 = dur(e.P99)
	}
	return []string{e.Started.Format("2006-01-02 15:04:05Z"), e.Profile, fmt.Sprint(e.Seed), strings.ToUpper(string(e.Verdict)),
		fmt.Sprintf("%d / %d / %d", e.OK, e.Fail, e.Unknown), p99, strings.Join(e.Failing, "\n"), e.Dir}
}

var historyHeader = []string{"Started", "Profile", "Seed", "Verdict", "OK / Fail / Unknown", "p99", "Failing invariants", "Run folder"}

// HistoryTable writes entries as a terminal table, one row per run, in the
// wide layout (HistoryTableWidth with width 0).
func HistoryTable(w io.Writer, entries []HistoryEntry) error {
	return HistoryTableWidth(w, entries, 0)
}

// historyColumns are the history table's columns: when, which profile, the
// verdict, what failed and the run folder are kept at any width.
var historyColumns = []column{{"Started", true, 50}, {"Profile", true, 50}, {"Seed", false, 50}, {"Verdict", true, 50},
	{"OK / Fail / Unknown", false, 50}, {"p99", false, 50}, {"Failing invariants", true, 50}, {"Run folder", true, 50}}

// HistoryTableWidth writes entries as a terminal table, one row per run,
// fitted to width characters (0: no limit; see fitTable).
func HistoryTableWidth(w io.Writer, entries []HistoryEntry, width int) error {
	rows := make([][]string, len(entries))
	for i, e := range entries {
		rows[i] = e.cells()
	}
	if err := fitTable(w, width, historyColumns, rows); err != nil {
		return fmt.Errorf("report: history table: %w", err)
	}
	return nil
}

// HistoryMarkdown writes entries as a Markdown table, one row per run.
func HistoryMarkdown(w io.Writer, entries []HistoryEntry) error {
	t := newMarkdownTable(w)
	t.Header(historyHeader)
	for _, e := range entries {
		cells := e.cells()
		for i := range cells {
			cells[i] = mdText(cells[i])
		}
		cells[3] = verdictEmoji(e.Verdict) + " " + cells[3]
		if err := t.Append(cells); err != nil {
			return fmt.Errorf("report: history markdown: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("report: history markdown: %w", err)
	}
	return nil
}

// HistoryJSON writes entries as {"schema_version": OutputSchemaVersion,
// "runs": [entry…]}, oldest first.
func HistoryJSON(w io.Writer, entries []HistoryEntry) error {
	if entries == nil {
		entries = []HistoryEntry{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	out := struct {
		SchemaVersion int            `json:"schema_version"`
		Runs          []HistoryEntry `json:"runs"`
	}{OutputSchemaVersion, entries}
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("report: history json: %w", err)
	}
	return nil
}
