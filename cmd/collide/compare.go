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
	p99Threshold     percent
	p99Floor         time.Duration
	unknownThreshold percent
	failOnRegression bool
	paths            []string
	wide             bool
}

func (o *compareOptions) check() error {
	if err := checkFormat(o.format, "table", "markdown", "json"); err != nil {
		return err
	}
	if o.p99Threshold < 0 {
		return errors.New("-p99-threshold must not be negative")
	}
	if o.unknownThreshold < 0 {
		return errors.New("-unknown-threshold must not be negative")
	}
	if o.p99Floor < 0 {
		return errors.New("-p99-floor must not be negative")
	}
	if len(o.paths) < 2 {
		return errors.New("need at least two runs to compare")
	}
	return nil
}

func (o *compareOptions) compareOptions() report.CompareOptions {
	return report.CompareOptions{P99Threshold: float64(o.p99Threshold), P99Floor: o.p99Floor, UnknownThreshold: float64(o.unknownThreshold)}
}

func cmdCompare(_ context.Context, args []string, stdout, stderr io.Writer) int {
	def := report.DefaultCompareOptions()
	o := compareOptions{p99Threshold: percent(def.P99Threshold), unknownThreshold: percent(def.UnknownThreshold)}
	fset := flag.NewFlagSet("compare", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&o.format, "format", "table", "output: table, markdown or json")
	fset.BoolVar(&o.wide, "wide", false, wideUsage)
	fset.Var(&o.p99Threshold, "p99-threshold", "a p99 latency up by more than this is a regression, e.g. 20%")
	fset.DurationVar(&o.p99Floor, "p99-floor", def.P99Floor, "a p99 increase smaller than this is never a regression")
	fset.Var(&o.unknownThreshold, "unknown-threshold", "an unknown share up by more than this many percentage points is a regression, e.g. 5%")
	fset.BoolVar(&o.failOnRegression, "fail-on-regression", false, fmt.Sprintf("exit %d when a later run regressed", exitRegression))
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: collide compare [flags] RUN RUN [RUN...]")
		fmt.Fprintln(stderr, "\nRUN is a run folder, a result.json, or a folder of run folders (e.g. one night's runs,")
		fmt.Fprintln(stderr, "matched to the other folders' runs by profile). Oldest first; each run is compared with the one before.")
		fmt.Fprintf(stderr, "Exit: 0 compared, %d regression with -fail-on-regression, 2 usage or no run found, 3 a run could not be read.\n\n", exitRegression)
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return harness.ExitUsage
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
	var err error
	switch o.format {
	case "table":
		err = report.CompareTableWidth(stdout, cs, tableWidth(o.wide, stdout))
	case "markdown":
		err = report.CompareMarkdown(stdout, cs)
	case "json":
		err = report.CompareJSON(stdout, cs)
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

// checkFormat reports a -format value that is not one of allowed.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return fmt.Errorf("-format %q: want %s", format, strings.Join(allowed, ", "))
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
