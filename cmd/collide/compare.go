package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/report"
)

// exitRegression is collide compare's exit code when -fail-on-regression is
// set and a later run regressed. It is the code of a failed invariant: for
// CI, a regression is a failure.
const exitRegression = 1

// compareOptions are the flags and arguments of `collide compare`, checked
// before any I/O.
type compareOptions struct {
	format           string
	alpha            float64
	latencyThreshold percent
	latencyFastest   percent
	latencyFloor     time.Duration
	latencySamples   int
	unknownThreshold percent
	failOnRegression bool
	force            bool
	paths            []string
	wide             bool
}

func (o *compareOptions) check() error {
	if _, err := report.CompareFormats.Lookup(o.format); err != nil {
		return err
	}
	if !(o.alpha > 0 && o.alpha < 1) {
		return fmt.Errorf("-alpha %v: want a significance level between 0 and 1, e.g. 0.05", o.alpha)
	}
	if o.latencyThreshold < 0 {
		return errors.New("-latency-threshold must not be negative")
	}
	if !(o.latencyFastest > 0 && o.latencyFastest <= 1) {
		return fmt.Errorf("-latency-fastest %s: want more than 0%% and at most 100%%", o.latencyFastest.String())
	}
	if o.latencySamples < 2 {
		return fmt.Errorf("-latency-samples %d: want at least 2", o.latencySamples)
	}
	if o.unknownThreshold < 0 {
		return errors.New("-unknown-threshold must not be negative")
	}
	if o.latencyFloor < 0 {
		return errors.New("-latency-floor must not be negative")
	}
	if len(o.paths) < 2 {
		return errors.New("need at least two runs to compare")
	}
	return nil
}

func (o *compareOptions) compareOptions() report.CompareOptions {
	return report.CompareOptions{Alpha: o.alpha, LatencyThreshold: float64(o.latencyThreshold), LatencyFastest: float64(o.latencyFastest), LatencyFloor: o.latencyFloor,
		MaxLatencySamples: o.latencySamples, UnknownThreshold: float64(o.unknownThreshold), Force: o.force}
}

func cmdCompare(_ context.Context, args []string, stdout, stderr io.Writer) int {
	def := report.DefaultCompareOptions()
	o := compareOptions{latencyThreshold: percent(def.LatencyThreshold), latencyFastest: percent(def.LatencyFastest), unknownThreshold: percent(def.UnknownThreshold)}
	fset := flag.NewFlagSet("compare", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&o.format, "format", "table", "output: "+report.OrList(report.CompareFormats.Names()))
	fset.BoolVar(&o.wide, "wide", false, wideUsage)
	fset.Float64Var(&o.alpha, "alpha", def.Alpha, "significance level of the latency test (Mann–Whitney U over per-request latencies); the confidence interval is at 1 − alpha")
	fset.Var(&o.latencyThreshold, "latency-threshold", "a latency shift is a regression when significant and its whole confidence interval is above this, e.g. 10%")
	fset.Var(&o.latencyFastest, "latency-fastest", "the latency test compares each run's fastest requests, this share of them (100%: all), e.g. 10%: a loaded machine delays some requests, a slower service all")
	fset.DurationVar(&o.latencyFloor, "latency-floor", def.LatencyFloor, "a median latency rise smaller than this is never a regression (0: no floor)")
	fset.IntVar(&o.latencySamples, "latency-samples", def.MaxLatencySamples, "latencies per operation and run the test uses; a run with more is sampled (seeded, uniform)")
	fset.BoolVar(&o.force, "force", false, "call regressions even between runs of different profiles (name or hash)")
	fset.Var(&o.unknownThreshold, "unknown-threshold", "an unknown share up by more than this many percentage points is a regression, e.g. 5%")
	fset.BoolVar(&o.failOnRegression, "fail-on-regression", false, fmt.Sprintf("exit %d when a later run regressed", exitRegression))
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: collide compare [flags] RUN RUN [RUN...]")
		fmt.Fprintln(fset.Output(), "\nRUN is a run folder, a result.json, or a folder of run folders (e.g. one night's runs,")
		fmt.Fprintln(fset.Output(), "matched to the other folders' runs by profile). Oldest first; each run is compared with the one before.")
		fmt.Fprintln(fset.Output(), "A latency regression is a Mann–Whitney U test over each run's fastest requests (history.jsonl) finding")
		fmt.Fprintln(fset.Output(), "a significant shift whose confidence interval lies above -latency-threshold; a verdict PASS → not PASS always is.")
		fmt.Fprintf(fset.Output(), "Exit: 0 compared, %d regression with -fail-on-regression, 2 usage, no run found, or runs of different\n", exitRegression)
		fmt.Fprintln(fset.Output(), "profiles (name or hash) without -force, 3 a run could not be read.")
		fmt.Fprintln(fset.Output())
		fset.PrintDefaults()
	}
	if code, done := parseFlags(fset, args, stdout, stderr); done {
		return code
	}
	o.paths = fset.Args()
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "collide compare:", err)
		fset.Usage()
		return harness.ExitUsage
	}
	sets, code := loadSets("compare", o.paths, stderr)
	if code != 0 {
		return code
	}
	cs := report.CompareSets(sets, o.compareOptions())
	if !o.force {
		for _, c := range cs {
			if c.ProfilesDiffer {
				fmt.Fprintf(stderr, "collide compare: different profiles, no regression called (-force to compare anyway): %s\n", strings.Join(c.Differences, "; "))
				return harness.ExitUsage
			}
		}
	}
	write, err := report.CompareFormats.Lookup(o.format) // known: o.check
	if err == nil {
		err = write(stdout, cs, report.FormatOptions{Width: tableWidth(o.wide, stdout)})
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide compare:", err)
		return harness.ExitEnv
	}
	n := 0
	for _, c := range cs {
		n += len(c.Regressions)
	}
	if n > 0 {
		fmt.Fprintf(stderr, "collide compare: %d regression(s)\n", n)
		if o.failOnRegression {
			return exitRegression
		}
	}
	return 0
}

// loadSets reads each path as a set of runs (report.LoadRuns). It warns on
// stderr about result files it skipped, and returns a non-zero exit code
// when a path does not exist or holds no run (usage) or cannot be read.
func loadSets(cmd string, paths []string, stderr io.Writer) ([]report.RunSet, int) {
	var sets []report.RunSet
	for _, p := range paths {
		runs, skipped, err := report.LoadRuns(p)
		for _, s := range skipped {
			fmt.Fprintf(stderr, "collide %s: skipped: %v\n", cmd, s)
		}
		if err != nil {
			fmt.Fprintf(stderr, "collide %s: %v\n", cmd, err)
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, report.ErrNoRuns) {
				return nil, harness.ExitUsage
			}
			return nil, harness.ExitEnv
		}
		if len(runs) == 0 {
			fmt.Fprintf(stderr, "collide %s: %s: no readable run\n", cmd, p)
			return nil, harness.ExitEnv
		}
		sets = append(sets, report.RunSet{Label: report.CompareLabel(p), Runs: runs})
	}
	return sets, 0
}

// percent is a flag holding a fraction, written as a percentage: "20%" or
// "20" both mean 0.20.
type percent float64

func (p *percent) String() string {
	return strconv.FormatFloat(100*float64(*p), 'f', -1, 64) + "%"
}

func (p *percent) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil {
		return fmt.Errorf("want a percentage such as 20%%: %w", err)
	}
	*p = percent(v / 100)
	return nil
}
