package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"github.com/collide-dev/collide/report"
)

// RunCount runs o.Profile count times (at least once), each run in its own
// folder o.OutDir/run-NN with a fresh seed: o.Seed+i when o.Seed is set
// (reproducible), else a random one (the profile's own seed is not reused:
// the runs would repeat each other). With untilFail it stops after the first
// run that fails; it stops too when ctx is done, a run is interrupted (130)
// or refused (a profile error, exit 2: the next would be refused the same
// way).
// each, when not nil, is called after every run. The summary's ExitCode is
// the worst run's.
func RunCount(ctx context.Context, o Options, count int, untilFail bool, each func(report.CountRun)) *report.CountSummary {
	count = max(count, 1)
	s := &report.CountSummary{SchemaVersion: report.OutputSchemaVersion, Profile: o.Profile.Name,
		Count: count, UntilFail: untilFail, Runs: []report.CountRun{}}
	base := o.OutDir
	for i := range count {
		if ctx.Err() != nil {
			break
		}
		ro := o
		ro.OutDir = filepath.Join(base, fmt.Sprintf("run-%02d", i+1))
		ro.Seed = o.Seed + int64(i)
		if o.Seed == 0 {
			ro.Seed = rand.Int64N(1<<53-1) + 1
		}
		res, err := Run(ctx, ro)
		cr := report.CountRun{N: i + 1, Seed: ro.Seed, Dir: ro.OutDir}
		switch {
		case res != nil:
			cr.Verdict, cr.ExitCode, cr.Seed = res.Verdict, res.ExitCode, res.Seed
			if err != nil {
				cr.Error = err.Error()
			}
		default:
			cr.Verdict, cr.ExitCode = report.Error, ErrorExitCode(err)
			if err != nil {
				cr.Error = err.Error()
			}
		}
		s.Add(cr)
		if each != nil {
			each(cr)
		}
		if (untilFail && cr.Verdict == report.Fail) || cr.ExitCode == ExitUsage || cr.ExitCode == ExitSignal || ctx.Err() != nil {
			break
		}
	}
	return s
}
