package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/report"
)

// historyOptions are the flags and argument of `collide history`, checked
// before any I/O.
type historyOptions struct {
	format  string
	profile string
	dir     string
	wide    bool
}

func (o *historyOptions) check() error {
	if _, err := report.HistoryFormats.Lookup(o.format); err != nil {
		return err
	}
	if o.dir == "" {
		return errors.New("name one folder")
	}
	return nil
}

func cmdHistory(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var o historyOptions
	fset := flag.NewFlagSet("history", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&o.format, "format", "table", "output: "+report.OrList(report.HistoryFormats.Names()))
	fset.StringVar(&o.profile, "profile", "", "only the runs of this profile")
	fset.BoolVar(&o.wide, "wide", false, wideUsage)
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: collide history [-profile NAME] [-format table|markdown|json] DIR")
		fmt.Fprintln(fset.Output(), "\nLists every run folder below DIR, oldest first.")
		fmt.Fprintln(fset.Output(), "Exit: 0 listed (also when there is none), 2 usage or DIR missing, 3 DIR could not be read.")
		fmt.Fprintln(fset.Output())
		fset.PrintDefaults()
	}
	if code, done := parseFlags(fset, args, stdout, stderr); done {
		return code
	}
	if fset.NArg() > 1 {
		fmt.Fprintln(stderr, "collide history: name one folder")
		fset.Usage()
		return harness.ExitUsage
	}
	o.dir = fset.Arg(0)
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "collide history:", err)
		fset.Usage()
		return harness.ExitUsage
	}
	runs, skipped, err := report.FindRuns(o.dir)
	for _, s := range skipped {
		fmt.Fprintln(stderr, "collide history: skipped:", s)
	}
	switch {
	case errors.Is(err, report.ErrNoRuns):
		fmt.Fprintf(stderr, "collide history: no run folder in %s\n", o.dir)
		err = nil
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintln(stderr, "collide history:", err)
		return harness.ExitUsage
	case err != nil:
		fmt.Fprintln(stderr, "collide history:", err)
		return harness.ExitEnv
	}
	entries := report.HistoryEntries(runs, o.profile)
	if len(entries) == 0 && len(runs) > 0 {
		fmt.Fprintf(stderr, "collide history: no run of profile %q in %s\n", o.profile, o.dir)
	}
	write, err := report.HistoryFormats.Lookup(o.format) // known: o.check
	if err == nil {
		err = write(stdout, entries, report.FormatOptions{Width: tableWidth(o.wide, stdout)})
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide history:", err)
		return harness.ExitEnv
	}
	return 0
}
