package main

import (
	"io"

	"github.com/collide-dev/collide/report"
)

// progressUsage is the help of run's -progress flag.
const progressUsage = "progress on stderr: auto (a redrawn line on a terminal, a plain line every 5s elsewhere), always (redraw even off a terminal) or never"

// progressWriter is where the live progress goes: nowhere when quiet (-q or
// -progress=never), stderr marked as a terminal with -progress=always, else
// stderr, where report.StartProgress redraws a line on a terminal and writes
// a plain line every few seconds on a pipe or file.
func progressWriter(quiet, always bool, stderr io.Writer) io.Writer {
	switch {
	case quiet:
		return nil
	case always:
		return report.AsTerminal(stderr)
	}
	return stderr
}
