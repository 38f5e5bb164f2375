package report

import (
	"fmt"
	"io"
)

// reportMarkdown writes each run as Markdown (a CI job summary), a blank
// line between runs.
func reportMarkdown(w io.Writer, runs []Run, _ FormatOptions) error {
	return eachRun(w, runs, func(r Run) error { return Markdown(w, r.Result) })
}

// eachRun calls write for each run, a blank line between runs; an error
// names the run folder.
func eachRun(w io.Writer, runs []Run, write func(Run) error) error {
	for i, r := range runs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := write(r); err != nil {
			return fmt.Errorf("%s: %w", r.Dir, err)
		}
	}
	return nil
}

func compareMarkdown(w io.Writer, cs []*Comparison, _ FormatOptions) error {
	return CompareMarkdown(w, cs)
}

// historyMarkdown writes nothing for no entry (the command says so on
// stderr).
func historyMarkdown(w io.Writer, entries []HistoryEntry, _ FormatOptions) error {
	if len(entries) == 0 {
		return nil
	}
	return HistoryMarkdown(w, entries)
}

func auditMarkdown(w io.Writer, a *AuditReport, _ FormatOptions) error { return AuditMarkdown(w, a) }
