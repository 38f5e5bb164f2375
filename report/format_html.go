package report

import (
	"fmt"
	"io"
)

// reportHTML writes exactly one run as a self-contained page, its charts
// drawn from the run's history.
func reportHTML(w io.Writer, runs []Run, o FormatOptions) error {
	if len(runs) != 1 {
		return fmt.Errorf("report: html renders one run, not %d", len(runs))
	}
	return HTML(w, runs[0].Result, HTMLOptions{HistoryPath: runs[0].HistoryPath(), MaxPoints: o.MaxPoints})
}
