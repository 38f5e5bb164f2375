package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/report"
)

const (
	countUsage     = "run the profile N times, each with a fresh seed in its own folder OUT/run-NN, and report \"flagged in k of N\""
	untilFailUsage = "stop at the first run that fails (without -count: up to 100 runs)"
	// untilFailRuns is how many runs -until-fail makes at most without -count.
	untilFailRuns = 100
)

// runCount is `collide run -count N` / `-until-fail`: the runs one after
// the other, a line on stderr as each ends (its seed, verdict and folder),
// then the summary on stdout (-format table or json) and the worst run's
// exit code (1 when one failed; docs/reliability.md's precedence).
func runCount(ctx context.Context, o runOptions, ho harness.Options, stdout, stderr io.Writer) int {
	count := o.count
	if o.untilFail && count == 1 {
		count = untilFailRuns
	}
	s := harness.RunCount(ctx, ho, count, o.untilFail, func(r report.CountRun) {
		fmt.Fprintf(stderr, "run %d of %d: seed %d: %s (exit %d), run folder %s\n",
			r.N, count, r.Seed, strings.ToUpper(string(r.Verdict)), r.ExitCode, r.Dir)
		if r.Error != "" {
			fmt.Fprintln(stderr, "collide:", r.Error)
		}
	})
	write, err := report.CountFormats.Lookup(o.format) // known: o.check
	if err == nil {
		err = write(stdout, s, report.FormatOptions{Width: tableWidth(o.wide, stdout)})
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide:", err)
	}
	return s.ExitCode
}
