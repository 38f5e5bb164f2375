package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/collide-dev/collide/profiles"
)

// The "table" format of each kind: terminal tables fitted to o.Width.

func runTable(w io.Writer, r *Result, o FormatOptions) error { return TableWidth(w, r, o.Width) }

// reportTable writes each run's table, a blank line between runs.
func reportTable(w io.Writer, runs []Run, o FormatOptions) error {
	return eachRun(w, runs, func(r Run) error { return TableWidth(w, r.Result, o.Width) })
}

func compareTable(w io.Writer, cs []*Comparison, o FormatOptions) error {
	return CompareTableWidth(w, cs, o.Width)
}

// historyTable writes nothing for no entry (the command says so on
// stderr).
func historyTable(w io.Writer, entries []HistoryEntry, o FormatOptions) error {
	if len(entries) == 0 {
		return nil
	}
	return HistoryTableWidth(w, entries, o.Width)
}

func listTable(w io.Writer, ps []profiles.BuiltinInfo, o FormatOptions) error {
	return ListTableWidth(w, ps, o.Width)
}

func countTable(w io.Writer, s *CountSummary, o FormatOptions) error {
	return CountTable(w, s, o.Width)
}

// auditTable writes the audit tests that ran, with their result and first
// evidence line, then the score. It is not fitted to a width.
func auditTable(w io.Writer, a *AuditReport, _ FormatOptions) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRowMaxWidth(60),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
	)
	t.Header("Test", "Description", "Result", "Profiles", "Evidence")
	for _, at := range a.Tests {
		if len(at.Profiles) == 0 {
			continue
		}
		ev := ""
		if len(at.Evidence) > 0 {
			ev = at.Evidence[0]
		}
		if err := t.Append([]string{firstNonEmpty(at.ID, "unassigned"), at.Description, string(at.Result), strings.Join(at.Profiles, ", "), ev}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "score: %s: %s (exit %d)\n", a.Score, a.ScoreReason, a.ExitCode)
	return err
}
