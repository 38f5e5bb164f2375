package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
)

// Terminal tables (Table, CompareTable, HistoryTable, ListTable) take a
// width in columns (characters of a monospace terminal). With a width, every
// line they write fits in it: the columns a person decides on first are
// always shown, the others only while they fit, and a cell too long for its
// column continues on the next lines of its row (a word longer than the
// column is cut there) — a row never wraps in the terminal. Width 0 means no
// limit: every column, each up to its fixed maximum, as `--wide` prints.

// minColumnWidth is the narrowest a column is squeezed to, in characters,
// unless its content is narrower.
const minColumnWidth = 8

// maxUncutWord is the longest word, in characters, a column widens to hold
// uncut when squeezed (a date, a status); longer words (paths, URLs) are cut.
const maxUncutWord = 16

// column is one column of a fitted table.
type column struct {
	// Header is the column's heading.
	Header string
	// Keep marks a column shown at any width: the ones a person decides on
	// first (the verdict, what was checked). The others are dropped, last
	// first, when the width cannot hold them.
	Keep bool
	// Max bounds the column's width in characters in the unlimited (wide)
	// layout; 0 leaves it unbounded.
	Max int
}

// fitTable writes a table of cols and rows (one cell per column) fitted to
// width characters, or, with width 0, in the wide layout.
func fitTable(w io.Writer, width int, cols []column, rows [][]string) error {
	if width <= 0 {
		colMax := 0
		for _, c := range cols {
			colMax = max(colMax, c.Max)
		}
		t := newTable(w, colMax)
		header := make([]string, len(cols))
		for i, c := range cols {
			header[i] = c.Header
		}
		t.Header(header)
		for _, r := range rows {
			if err := t.Append(r); err != nil {
				return err
			}
		}
		return t.Render()
	}

	natural := make([]int, len(cols))
	minimum := make([]int, len(cols))
	for i, c := range cols {
		natural[i] = textWidth(c.Header)
		for _, r := range rows {
			natural[i] = max(natural[i], textWidth(r[i]))
		}
		longestWord := 0
		for _, f := range strings.Fields(c.Header) {
			longestWord = max(longestWord, twwidth.Width(f))
		}
		for _, r := range rows {
			for _, f := range strings.Fields(r[i]) {
				longestWord = max(longestWord, min(twwidth.Width(f), maxUncutWord))
			}
		}
		minimum[i] = min(natural[i], max(minColumnWidth, longestWord))
	}

	// Keep the columns that must stay, then the others in order while the
	// table still fits with every shown column at its natural width: an
	// optional column never squeezes a kept one. Each column costs 3
	// characters of border and padding, the table 1 more.
	shown := make([]bool, len(cols))
	used := 1
	for i, c := range cols {
		if c.Keep {
			shown[i] = true
			used += natural[i] + 3
		}
	}
	for i, c := range cols {
		if !c.Keep && used+natural[i]+3 <= width {
			shown[i] = true
			used += natural[i] + 3
		}
	}
	var idx []int
	for i := range cols {
		if shown[i] {
			idx = append(idx, i)
		}
	}

	// Start from the natural widths and narrow the widest column, one
	// character at a time, until the table fits: first down to each
	// column's minimum, then, when the kept columns alone are too many, to
	// minColumnWidth and at last to a single character.
	widths := make([]int, len(idx))
	total := 1
	for j, i := range idx {
		widths[j] = natural[i]
		total += widths[j] + 3
	}
	floors := []func(i int) int{
		func(i int) int { return minimum[i] },
		func(i int) int { return min(natural[i], minColumnWidth) },
		func(int) int { return 1 },
	}
	for _, floor := range floors {
		for total > width {
			widest := -1
			for j, i := range idx {
				if widths[j] > floor(i) && (widest < 0 || widths[j] > widths[widest]) {
					widest = j
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
			total--
		}
	}

	t := tablewriter.NewTable(w,
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithTrimSpace(tw.Off),
	)
	header := make([]string, len(idx))
	for j, i := range idx {
		header[j] = strings.Join(wrapText(cols[i].Header, widths[j]), "\n")
	}
	t.Header(header)
	for _, r := range rows {
		line := make([]string, len(idx))
		for j, i := range idx {
			line[j] = strings.Join(wrapText(r[i], widths[j]), "\n")
		}
		if err := t.Append(line); err != nil {
			return err
		}
	}
	return t.Render()
}

// textWidth is the width of s's widest line, in characters.
func textWidth(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		n = max(n, twwidth.Width(l))
	}
	return n
}

// wrapText breaks s into lines of at most width characters: at its own
// newlines, then between words, and a word longer than width is cut into
// pieces of width characters.
func wrapText(s string, width int) []string {
	if width <= 0 {
		return strings.Split(s, "\n")
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		indent := para[:len(para)-len(strings.TrimLeft(para, " "))]
		if twwidth.Width(indent) >= width {
			indent = ""
		}
		line := ""
		flush := func() {
			out = append(out, line)
			line = ""
		}
		words := strings.Fields(para)
		if len(words) == 0 {
			out = append(out, "")
			continue
		}
		line = indent
		for _, word := range words {
			for word != "" {
				sep := ""
				if strings.TrimSpace(line) != "" {
					sep = " "
				}
				if twwidth.Width(line+sep+word) <= width {
					line += sep + word
					word = ""
					continue
				}
				if strings.TrimSpace(line) != "" {
					flush()
					line = indent
					continue
				}
				// The word alone is too long: cut it.
				room := width - twwidth.Width(line)
				head, rest := cutWidth(word, room)
				line += head
				word = rest
				flush()
				line = indent
			}
		}
		if strings.TrimSpace(line) != "" {
			flush()
		}
	}
	return out
}

// cutWidth splits s after its first width characters (at least one rune).
func cutWidth(s string, width int) (head, rest string) {
	n := 0
	for i, r := range s {
		rw := twwidth.Width(string(r))
		if n+rw > width && i > 0 {
			return s[:i], s[i:]
		}
		n += rw
	}
	return s, ""
}

// fitLine writes s (lines of prose outside a table) fitted to width
// characters, continuation lines indented by two spaces; width 0 writes it
// as it is.
func fitLine(w io.Writer, width int, s string) {
	if width <= 0 {
		fmt.Fprintln(w, s)
		return
	}
	for _, para := range strings.Split(s, "\n") {
		for k, l := range wrapText(para, max(width-2, 1)) {
			if k > 0 {
				l = "  " + l
			}
			fmt.Fprintln(w, l)
		}
	}
}
