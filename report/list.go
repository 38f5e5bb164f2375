package report

import (
	"fmt"
	"io"

	"github.com/collide-dev/collide/profiles"
)

// listColumns are the columns of `collide list`: both are kept at any width.
// The headings are upper case, as before, so that scripts (the nightly
// workflow's awk) tell them from the lowercase profile names.
var listColumns = []column{{"PROFILE", true, 0}, {"WHAT IT PROVES", true, 0}}

// ListTableWidth writes the profiles of `collide list` as a terminal table,
// one row per profile, fitted to width characters (0: no limit).
func ListTableWidth(w io.Writer, ps []profiles.BuiltinInfo, width int) error {
	rows := make([][]string, len(ps))
	for i, p := range ps {
		rows[i] = []string{p.Name, p.About}
	}
	if err := fitTable(w, width, listColumns, rows); err != nil {
		return fmt.Errorf("report: list table: %w", err)
	}
	return nil
}
