package main

import (
	"io"
	"os"

	"github.com/collide-dev/collide/report"
)

// wideUsage is the help of every command's -wide flag.
const wideUsage = "every column of the tables, however wide (default: fit the terminal; COLUMNS honoured)"

// tableWidth is the width, in columns, the terminal tables written to stdout
// are fitted to: 0 (no limit, every column) with -wide, else
// report.TerminalWidth (COLUMNS, the terminal's size, or no limit when
// stdout is not a terminal).
func tableWidth(wide bool, stdout io.Writer) int {
	if wide {
		return 0
	}
	return report.TerminalWidth(stdout, os.Getenv)
}
