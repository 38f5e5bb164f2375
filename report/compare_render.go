package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// CompareTable writes comparisons as terminal tables in the wide layout
// (CompareTableWidth with width 0).
func CompareTable(w io.Writer, cs []*Comparison) error { return CompareTableWidth(w, cs, 0) }

// CompareTableWidth writes comparisons as terminal tables, one per profile:
// one column per run, each later cell with its change against the previous
// run, regressed cells marked ⚠, then the list of regressions; every line
// fitted to width characters (0: no limit; see fitTable). Every column is
// kept: a narrow terminal gets the same cells on more lines.
func CompareTableWidth(w io.Writer, cs []*Comparison, width int) error {
	ew := &errWriter{w: w}
	for i, c := range cs {
		if i > 0 {
			fmt.Fprintln(ew)
		}
		fitLine(ew, width, compareTitle(c))
		cols := []column{{"", true, 40}}
		for _, r := range c.Runs {
			cols = append(cols, column{columnHeading(r), true, 40})
		}
		var rows [][]string
		for _, row := range c.Rows {
			line := []string{row.Name}
			for _, cell := range row.Cells {
				text := cell.Text
				if cell.Regression != "" {
					text += " ⚠"
				}
				line = append(line, text)
			}
			rows = append(rows, line)
		}
		if err := fitTable(ew, width, cols, rows); err != nil {
			return fmt.Errorf("report: compare table: %w", err)
		}
		for _, d := range c.Differences {
			fitLine(ew, width, "differs: "+d)
		}
		for _, n := range c.Notes {
			fitLine(ew, width, "note: "+n)
		}
		if !c.Regressed() {
			fmt.Fprintln(ew, "no regression")
			continue
		}
		fmt.Fprintf(ew, "%s:\n", plural(len(c.Regressions), "regression"))
		for _, r := range c.Regressions {
			fitLine(ew, width, fmt.Sprintf("  ⚠ %s: %s", r.Label, r.Why))
		}
	}
	if len(cs) > 1 {
		fmt.Fprintln(ew)
		fitLine(ew, width, compareSummary(cs))
	}
	return ew.err
}

// CompareMarkdown writes comparisons as GitHub-flavoured Markdown, fit for a
// job summary: a heading and a table per profile, regressed cells in bold
// with ⚠️, then the regressions as a list.
func CompareMarkdown(w io.Writer, cs []*Comparison) error {
	ew := &errWriter{w: w}
	for i, c := range cs {
		if i > 0 {
			fmt.Fprintln(ew)
		}
		mark := "✅"
		if c.Regressed() {
			mark = "⚠️"
		}
		fmt.Fprintf(ew, "### %s %s\n\n", mark, mdText(compareTitle(c)))
		t := newMarkdownTable(ew)
		header := []string{" "}
		for _, r := range c.Runs {
			header = append(header, mdText(columnHeading(r)))
		}
		t.Header(header)
		for _, row := range c.Rows {
			line := []string{mdText(row.Name)}
			for _, cell := range row.Cells {
				text := mdText(cell.Text)
				if cell.Regression != "" {
					text = "**" + text + "** ⚠️"
				}
				line = append(line, text)
			}
			if err := t.Append(line); err != nil {
				return fmt.Errorf("report: compare markdown: %w", err)
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("report: compare markdown: %w", err)
		}
		fmt.Fprintln(ew)
		for _, d := range c.Differences {
			fmt.Fprintf(ew, "_differs: %s_\n\n", mdText(d))
		}
		for _, n := range c.Notes {
			fmt.Fprintf(ew, "_note: %s_\n\n", mdText(n))
		}
		if !c.Regressed() {
			fmt.Fprint(ew, "No regression.\n")
			continue
		}
		fmt.Fprintf(ew, "**%s:**\n\n", plural(len(c.Regressions), "regression"))
		for _, r := range c.Regressions {
			fmt.Fprintf(ew, "- ⚠️ %s: %s\n", mdText(r.Label), mdText(r.Why))
		}
	}
	if len(cs) > 1 {
		fmt.Fprintf(ew, "\n**%s**\n", mdText(compareSummary(cs)))
	}
	return ew.err
}

// CompareJSON writes comparisons as one JSON object:
// {"regressed": bool, "regressions": n, "comparisons": [...]}.
func CompareJSON(w io.Writer, cs []*Comparison) error {
	n := 0
	for _, c := range cs {
		n += len(c.Regressions)
	}
	if cs == nil {
		cs = []*Comparison{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		SchemaVersion int           `json:"schema_version"`
		Regressed     bool          `json:"regressed"`
		Regressions   int           `json:"regressions"`
		Comparisons   []*Comparison `json:"comparisons"`
	}{OutputSchemaVersion, n > 0, n, cs})
	if err != nil {
		return fmt.Errorf("report: compare json: %w", err)
	}
	return nil
}

func compareTitle(c *Comparison) string {
	what := "profile " + c.Profile
	if c.Profile == "" {
		what = "runs of different profiles"
	}
	return fmt.Sprintf("compare %s: %d runs, oldest first, each against the one before", what, len(c.Runs))
}

func columnHeading(r ColumnInfo) string {
	if r.Missing {
		return r.Label + " (missing)"
	}
	return r.Label
}

func compareSummary(cs []*Comparison) string {
	n, profiles := 0, 0
	for _, c := range cs {
		if c.Regressed() {
			n += len(c.Regressions)
			profiles++
		}
	}
	if n == 0 {
		return fmt.Sprintf("no regression in %s", plural(len(cs), "profile"))
	}
	return fmt.Sprintf("%s in %d of %s", plural(n, "regression"), profiles, plural(len(cs), "profile"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// CompareLabel is a short, readable column label for a command-line
// argument: the path without a trailing result.json.
func CompareLabel(arg string) string {
	arg = strings.TrimSuffix(strings.TrimSuffix(arg, "/"), "/"+ResultFile)
	if arg == ResultFile {
		return "."
	}
	return arg
}
