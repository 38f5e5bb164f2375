package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/report"
)

// reportOptions are the flags and arguments of `collide report`, checked
// before any I/O.
type reportOptions struct {
	format    string
	out       string
	maxPoints int
	paths     []string
	wide      bool
}

func (o *reportOptions) check() error {
	if _, err := report.ReportFormats.Lookup(o.format); err != nil {
		return err
	}
	if o.maxPoints < 0 {
		return errors.New("-max-points must not be negative")
	}
	if len(o.paths) == 0 {
		return errors.New("name a run folder or result.json")
	}
	if o.format == "html" && len(o.paths) != 1 {
		return errors.New("-format html renders one run")
	}
	return nil
}

func cmdReport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var o reportOptions
	fset := flag.NewFlagSet("report", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&o.format, "format", "table", "output: table, markdown (CI job summary), junit (XML) or html (one self-contained page)")
	fset.StringVar(&o.out, "o", "", "write to this file, atomically (default: standard output)")
	fset.BoolVar(&o.wide, "wide", false, wideUsage)
	fset.IntVar(&o.maxPoints, "max-points", report.DefaultMaxPoints, "html: most ok operations drawn on the latency chart (every other op is drawn)")
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: collide report [-format table|markdown|junit|html] [-o FILE] RUN [RUN...]")
		fmt.Fprintln(fset.Output(), "\nRUN is a run folder, a result.json, or a folder of run folders (oldest first).")
		fmt.Fprintln(fset.Output(), "junit writes one <testsuite> per run; html renders exactly one run.")
		fmt.Fprintln(fset.Output(), "Exit: 0 written (whatever the runs' verdicts), 2 usage or no run found, 3 a run could not be read or written.")
		fmt.Fprintln(fset.Output())
		fset.PrintDefaults()
	}
	if code, done := parseFlags(fset, args, stdout, stderr); done {
		return code
	}
	o.paths = fset.Args()
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "collide report:", err)
		fset.Usage()
		return harness.ExitUsage
	}
	sets, code := loadSets("report", o.paths, stderr)
	if code != 0 {
		return code
	}
	var runs []report.Run
	for _, s := range sets {
		runs = append(runs, s.Runs...)
	}
	if o.format == "html" && len(runs) != 1 {
		fmt.Fprintf(stderr, "collide report: -format html renders one run; %s holds %d\n", o.paths[0], len(runs))
		return harness.ExitUsage
	}

	var buf bytes.Buffer
	if err := renderReport(&buf, o, runs); err != nil {
		fmt.Fprintln(stderr, "collide report:", err)
		return harness.ExitEnv
	}
	if o.out == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			fmt.Fprintln(stderr, "collide report:", err)
			return harness.ExitEnv
		}
		return 0
	}
	if err := report.WriteFileAtomic(o.out, buf.Bytes()); err != nil {
		fmt.Fprintln(stderr, "collide report:", err)
		return harness.ExitEnv
	}
	fmt.Fprintf(stderr, "collide report: wrote %s (%d bytes)\n", o.out, buf.Len())
	return 0
}

// renderReport writes the runs in o's format (known: o.check).
func renderReport(w io.Writer, o reportOptions, runs []report.Run) error {
	write, err := report.ReportFormats.Lookup(o.format)
	if err != nil {
		return err
	}
	return write(w, runs, report.FormatOptions{Width: tableWidth(o.wide, w), MaxPoints: o.maxPoints})
}
