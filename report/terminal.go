package report

import (
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// DefaultTerminalWidth is the width, in columns, assumed for a terminal
// whose size cannot be read.
const DefaultTerminalWidth = 80

// TerminalWidth is the width, in columns, the terminal tables written to w
// are fitted to: COLUMNS when it holds a positive number (so `COLUMNS=120
// collide run …` and scripts decide), else the size of the terminal when w
// is one, DefaultTerminalWidth when w is a terminal of unknown size, and 0 —
// no limit, every column (the `--wide` layout) — when w is not a terminal (a
// pipe, a file, a CI log), where a long line scrolls rather than wraps.
// getenv is os.Getenv outside tests.
func TerminalWidth(w io.Writer, getenv func(string) string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if !IsTerminal(w) {
		return 0
	}
	if cols, _, err := term.GetSize(int(w.(*os.File).Fd())); err == nil && cols > 0 {
		return cols
	}
	return DefaultTerminalWidth
}
